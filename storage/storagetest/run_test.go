package storagetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/oauth2provider/oauth2provider/storage/storagetest"
)

// TestRun is the package doc's example, as the author of a backend writes
// it: the factory returns a fresh, empty store on the clock it is given.
// The memory store stands in for the author's; a networked one gets its
// own schema or key prefix here, drops it in a t.Cleanup, and offers Dump
// (its rows or keys, as bytes) so that the suite can check that no raw
// token is stored.
func TestRun(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, now func() time.Time) storagetest.Backend {
		s := memory.New(memory.Config{Now: now})
		return storagetest.Backend{Clients: s, Tokens: s}
	})
}

// forgetsReuse is a broken backend: it reports a reused refresh token or
// code as unknown, so a stolen refresh token's grant is never revoked.
type forgetsReuse struct{ storage.TokenStore }

func (s forgetsReuse) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	g, err := s.TokenStore.ExchangeToken(ctx, x)
	if errors.Is(err, storage.ErrTokenReused) {
		return nil, storage.ErrNotFound
	}
	return g, err
}

// The suite can fail: run on a backend that hides reuse, it fails the
// clause about reuse. It runs in a child process, whose failure is the
// expected outcome.
func TestRunFailsABrokenBackend(t *testing.T) {
	if os.Getenv("STORAGETEST_BROKEN_BACKEND") == "1" {
		storagetest.Run(t, func(t *testing.T, now func() time.Time) storagetest.Backend {
			s := memory.New(memory.Config{Now: now})
			return storagetest.Backend{Clients: s, Tokens: forgetsReuse{s}}
		})
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunFailsABrokenBackend$", "-test.v")
	cmd.Env = append(os.Environ(), "STORAGETEST_BROKEN_BACKEND=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the suite passed a backend that hides reuse:\n%s", out)
	assert.Contains(t, string(out), "--- FAIL: TestRunFailsABrokenBackend/Exchange/ReuseRevokesGrant")
	assert.Contains(t, string(out), "--- PASS: TestRunFailsABrokenBackend/Exchange/RefreshRotates", "only the reuse clauses fail")
}
