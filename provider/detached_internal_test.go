package provider

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// hungRevokes is a token store whose RevokeGrant answers only when its
// context ends, as a store that stopped answering does.
type hungRevokes struct{ storage.TokenStore }

func (hungRevokes) RevokeGrant(ctx context.Context, _ string) error {
	<-ctx.Done()
	return ctx.Err()
}

// A revocation that outlives the request's context (revokeDetached) is
// still bounded: a hung store fails it after detachedTimeout rather than
// holding the request for ever.
func TestDetachedRevocationIsBounded(t *testing.T) {
	old := detachedTimeout
	detachedTimeout = 50 * time.Millisecond
	t.Cleanup(func() { detachedTimeout = old })
	st := memory.New(memory.Config{})
	p, err := New(Config{Clients: st, Tokens: hungRevokes{st}, AllowInsecureHTTP: true})
	require.NoError(t, err)
	raw, _, err := p.CreateSession(httptest.NewRequest("GET", "/", nil), "user-1", nil, time.Hour)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client has gone: the revocation goes on, bounded
	done := make(chan error, 1)
	go func() { done <- p.EndSession(ctx, raw) }()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(10 * time.Second): // without the bound, never
		t.Fatal("EndSession still waits on a store that does not answer")
	}
}
