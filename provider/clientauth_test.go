package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/internal/passhash"
	"github.com/oauth2provider/oauth2provider/provider"
)

// A secret a person chose is checked with argon2id, and such checks wait
// for one of a few slots. A request that ends while its check waits (the
// client hung up, the server's timeout passed) stops waiting and is
// answered as any request whose context ended: 503, not invalid_client,
// since its secret was never judged, and not counted against the client,
// whose budget of failed secrets is whole afterwards.
func TestClientSecretCheckGivesUpWhenTheRequestEnds(t *testing.T) {
	e := newEnv(t, nil)
	release := passhash.HoldSlots() // every argon2id check waits
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	// await sends rq to h with a context that ends while its secret's
	// check waits for a slot, and returns the answer.
	await := func(t *testing.T, h http.Handler, rq req, end func(context.Context) (context.Context, context.CancelFunc)) *httptest.ResponseRecorder {
		t.Helper()
		ctx, cancel := end(context.Background())
		defer cancel()
		rq.ctx = ctx
		done := make(chan *httptest.ResponseRecorder, 1)
		go func() { done <- call(h, rq) }()
		time.Sleep(5 * time.Millisecond) // let it wait for a slot
		cancel()
		select {
		case w := <-done:
			return w
		case <-time.After(2 * time.Second):
			t.Fatal("the request still waits for an argon2id slot after its context ended")
			return nil
		}
	}
	hangUp := func(ctx context.Context) (context.Context, context.CancelFunc) {
		return context.WithCancel(ctx)
	}
	timeOut := func(ctx context.Context) (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, time.Millisecond)
	}
	// More requests than the client's budget of failures: one counted
	// by mistake would leave the last ones throttled (429).
	for i := range provider.DefaultClientRate.Burst + 1 {
		for _, secret := range []string{humanSecret, "wrong"} {
			end := hangUp
			if i%2 == 1 {
				end = timeOut
			}
			w := await(t, e.h, req{form: password(), basic: []string{"human", secret}}, end)
			assertError(t, w, http.StatusServiceUnavailable, "temporarily_unavailable")
			assert.Equal(t, "1", w.Header().Get("Retry-After"))
			assert.Empty(t, w.Header().Get("WWW-Authenticate"), "no invalid_client challenge")
		}
	}
	// Introspection authenticates its client the same way. (Revocation
	// outlives its client by design, for detachedTimeout: see
	// RevokeHandler.)
	w := await(t, e.p.IntrospectHandler(), req{form: tokenForm("x"), basic: []string{"human", "wrong"}}, hangUp)
	assertError(t, w, http.StatusServiceUnavailable, "temporarily_unavailable")
	release()
	released = true

	assertToken(t, e.do(req{form: password(), basic: human}))
	for range provider.DefaultClientRate.Burst {
		assertError(t, e.do(req{form: password(), basic: []string{"human", "wrong"}}), 401, "invalid_client")
	}
	assertThrottled(t, e.do(req{form: password(), basic: human}), "60")
}
