package provider_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/provider"
)

// A consent form is valid for the whole of ConsentTTL: the token holds
// its expiry in whole seconds, which must not cut the TTL short (a TTL
// under a second made every form expired on arrival).
func TestAuthorizeConsentTTLIsNotCutShort(t *testing.T) {
	for _, c := range []struct {
		ttl, wait time.Duration
	}{
		{500 * time.Millisecond, 0},
		{500 * time.Millisecond, 400 * time.Millisecond},
		{1500 * time.Millisecond, 1200 * time.Millisecond},
		{10 * time.Minute, 10*time.Minute - time.Millisecond},
	} {
		e := newAuthzEnv(t, nil, func(cfg *provider.AuthorizeConfig) { cfg.ConsentTTL = c.ttl })
		e.clock.Advance(300 * time.Millisecond) // off a whole second
		fields := consentFields(t, e.get(spaParams(), "user-1"))
		e.clock.Advance(c.wait)
		q := redirected(t, e.decide(fields, "user-1", "allow"), http.StatusSeeOther, "https://spa.example/cb")
		assert.NotEmpty(t, q.Get("code"), "ttl %v, posted after %v", c.ttl, c.wait)

		// And not much past it.
		fields = consentFields(t, e.get(spaParams(), "user-1"))
		e.clock.Advance(c.ttl + time.Second)
		assertErrorPage(t, e.decide(fields, "user-1", "allow"), http.StatusForbidden, "access_denied")
	}
}
