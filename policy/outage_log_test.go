package policy_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/policy"
)

// The 503 of the login and logout forms, of Bearer and of Cookie says only
// "temporarily unavailable"; its cause (the AuthChecker's or the store's
// error) goes to the provider's Config.Logger at Error, as the token
// endpoint's does, or nothing tells why every login or request fails.
func TestOutageCauseIsLogged(t *testing.T) {
	var log providertest.LockedBuffer
	e := newSessEnv(t, sessOpts{logger: slog.New(slog.NewTextHandler(&log, nil))})
	cookie := e.login(t, reqOpts{})
	tok := e.token(t, "grant_type=client_credentials")

	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("down", "pw")))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Contains(t, log.String(), errUserDB.Error())
	assert.Contains(t, log.String(), "path=/login")

	e.store.createDown.Store(true) // the user database answers, the store does not
	w = serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Empty(t, w.Header().Values("Set-Cookie"))
	assert.Contains(t, log.String(), "create session: redis: i/o timeout")
	e.store.createDown.Store(false)

	e.store.down.Store(true)
	w = serve(policy.Bearer(e.p)(echo), reqOpts{bearer: "Bearer " + tok}.build(http.MethodGet, "/api/me", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	w = serve(policy.Cookie(e.s)(echo), reqOpts{cookie: cookie}.build(http.MethodGet, "/api/me", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	w = serve(e.s.LogoutHandler(), reqOpts{cookie: cookie}.build(http.MethodPost, "/logout", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, 4, strings.Count(log.String(), "redis: i/o timeout"),
		"one record for each 503, of login, Bearer, Cookie and logout:\n%s", log.String())
	assert.Equal(t, 5, strings.Count(log.String(), "level=ERROR"), log.String())
	assert.Contains(t, log.String(), "path=/logout")
}
