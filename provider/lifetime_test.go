package provider_test

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
)

// A lifetime that reaches past 2262 (time.Duration's maximum, a common
// spelling of "never") ends there: the memory and Redis stores refuse
// times they cannot hold in Unix nanoseconds, and a token the provider
// mints must not turn every login, refresh and sliding session into a
// store outage (503).
func TestLifetimesPastYear2262EndThere(t *testing.T) {
	forever := time.Duration(math.MaxInt64)
	e := newEnv(t, func(c *provider.Config) {
		c.AccessTokenTTL, c.RefreshTokenTTL = forever, forever
	})
	last := time.Unix(0, math.MaxInt64).UTC()

	w := e.do(req{form: password(), basic: []string{"conf", confSecret}})
	tok := assertToken(t, w)
	ti, err := e.validate(tok["access_token"].(string))
	require.NoError(t, err)
	assert.True(t, ti.Token.ExpiresAt.Equal(last), "the access token expires at the last instant kept: %v", ti.Token.ExpiresAt)

	w = e.do(req{form: with(url.Values{}, "grant_type", "refresh_token", "refresh_token", tok["refresh_token"].(string)),
		basic: []string{"conf", confSecret}})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	raw, exp, err := e.p.CreateSession(sessionRequest(), "user-1", nil, forever)
	require.NoError(t, err, "a session as long as a Duration holds")
	assert.True(t, exp.Equal(last), "%v", exp)
	require.NoError(t, e.p.ExtendSession(context.Background(), raw, time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC)),
		"a sliding session extended past 2262")
	_, err = e.p.ValidateSession(sessionRequest(), raw)
	assert.NoError(t, err)
}
