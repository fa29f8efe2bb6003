package redis

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// breaker is a go-redis hook that, when open, fails every pipeline that
// refuses picks (refusable when nil) without sending it, as a circuit
// breaker or fault-injection hook does: its calls are left without a
// reply or an error of their own.
type breaker struct {
	open    atomic.Bool
	refuses func([]goredis.Cmder) bool
}

var errOpen = errors.New("breaker open")

func (b *breaker) DialHook(next goredis.DialHook) goredis.DialHook          { return next }
func (b *breaker) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }
func (b *breaker) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		refuses := b.refuses
		if refuses == nil {
			refuses = refusable
		}
		if b.open.Load() && refuses(cmds) {
			return errOpen
		}
		return next(ctx, cmds)
	}
}

// refusable reports whether cmds touch a user index, so that only the
// re-index pipeline is refused.
func refusable(cmds []goredis.Cmder) bool {
	for _, c := range cmds {
		for _, a := range c.Args() {
			if p, ok := a.(*string); ok && strings.Contains(*p, "user:{") {
				return true
			}
			if p, ok := a.(string); ok && strings.Contains(p, "user:{") {
				return true
			}
		}
	}
	return false
}

// An exchange whose re-index pipeline is refused fails (closed, as
// ExchangeToken's doc promises): had it reported success, the caller
// would hold tokens of a grant that its user's index stops listing once
// the old horizon passes, and that would survive RevokeUser.
func TestExchangeFailsWhenItsReindexIsRefused(t *testing.T) {
	var b breaker
	h := newHookedHarness(t, &b)
	s := h.s

	_, _, refresh := h.grant("web", "alice", 24*time.Hour) // index horizon 30h
	h.clk.Advance(10 * time.Hour)
	x, _ := h.exchange("web", refresh) // new expiry 34h: past the horizon
	b.open.Store(true)
	_, err := s.ExchangeToken(h.ctx, x)
	b.open.Store(false)
	assert.ErrorIs(t, err, errOpen)
}

// CreateGrant whose pipeline is refused reports the refusal, not a
// decoding error.
func TestCreateGrantReportsARefusedPipeline(t *testing.T) {
	var b breaker
	h := newHookedHarness(t, &b)
	b.open.Store(true)
	err := h.s.CreateGrant(h.ctx, &storage.Grant{ID: "gid-refused-pipeline", ClientID: "web", UserID: "alice", ExpiresAt: h.clk.Now().Add(time.Hour)})
	require.Error(t, err)
	assert.ErrorIs(t, err, errOpen, "%v", err)
}
