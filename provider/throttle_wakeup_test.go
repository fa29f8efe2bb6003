package provider_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// hookLimiter is a memory limiter that calls refused after a Reserve it
// refused, for requests whose context carries hookKey.
type hookLimiter struct {
	*memory.Limiter
	refused func()
}

type hookKey struct{}

func (l *hookLimiter) Reserve(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	d, err := l.Limiter.Reserve(ctx, key, r)
	if d > 0 && ctx.Value(hookKey{}) != nil {
		l.refused()
	}
	return d, err
}

// TestRefusedAttemptSeesAnEndDuringItsReservation: B is refused because A
// holds the budget, and A is refunded and ends (the last in flight) before
// B looks for attempts in flight. B must try again and pass, not answer
// 429 for want of anyone to wait for.
func TestRefusedAttemptSeesAnEndDuringItsReservation(t *testing.T) {
	inCheck, release, aDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var once sync.Once
	lim := &hookLimiter{Limiter: memory.NewLimiter(memory.LimiterConfig{})}
	lim.refused = func() {
		once.Do(func() {
			close(release) // A succeeds: refund, then it ends
			<-aDone
		})
	}
	checker := authcheck.Func(func(_ context.Context, username, password string) (string, error) {
		if username == "a" {
			close(inCheck)
			<-release
		}
		return "user-" + username, nil
	})
	one := storage.Rate{Burst: 1, Every: time.Minute}
	st := memory.New(memory.Config{})
	p, err := provider.New(provider.Config{Clients: st, Tokens: st, Users: checker, Limiter: lim,
		UserRate: one, IPRate: one, AllowInsecureHTTP: true})
	require.NoError(t, err)

	go func() {
		defer close(aDone)
		_, err := p.AuthenticateUser(req{ctx: context.Background()}.build(), "a", "right")
		assert.NoError(t, err)
	}()
	<-inCheck
	_, err = p.AuthenticateUser(req{ctx: context.WithValue(context.Background(), hookKey{}, true)}.build(), "b", "right")
	assert.NoError(t, err, "refused although the attempt it waited on was refunded")
}
