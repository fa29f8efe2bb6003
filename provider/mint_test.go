package provider_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/provider"
)

// A refresh token a rotation issues lives for RefreshTokenTTL, as the
// first one does, not for the access token's lifetime.
func TestRotatedRefreshTokenLivesForRefreshTokenTTL(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.AccessTokenTTL = time.Minute; c.RefreshTokenTTL = time.Hour })
	rt := e.issue(t)["refresh_token"].(string)
	m := assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic: conf}))
	assert.Equal(t, float64(60), m["expires_in"])

	e.clock.Advance(time.Hour - time.Second) // the new access token is long gone
	m = assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}, basic: conf}))

	e.clock.Advance(time.Hour)
	w := e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}, basic: conf})
	assertError(t, w, 400, "invalid_grant")
}
