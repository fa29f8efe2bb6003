package policy_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// TestNoSecretInLogsErrorsOrResponses drives the login, logout, cookie
// and bearer failure paths with recognisable passwords, session cookies
// and tokens, and checks that none of them, nor a live session or token,
// appears in the provider's log, an error response (body and headers) or
// the text of an error SignedInUser returns (which apps log).
func TestNoSecretInLogsErrorsOrResponses(t *testing.T) {
	const (
		pw    = "SECRET-PW-123"
		bogus = "SECRET-COOKIE-0123456789"
		tok   = "SECRET-TOK-0123456789"
	)
	var log providertest.LockedBuffer
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	st := &flakyStore{Store: memory.New(memory.Config{Now: func() time.Time { return now }})}
	require.NoError(t, st.CreateClient(context.Background(), &storage.Client{
		ID: "app", SecretHash: storage.HashGeneratedSecret(secret),
		GrantTypes: []string{storage.GrantPassword}, Scopes: []string{"read"},
	}))
	p, err := provider.New(provider.Config{
		Clients: st, Tokens: st, Realm: "api", Now: func() time.Time { return now },
		Logger:     slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BindingKey: []byte(strings.Repeat("k", 32)),
		Users: authcheck.Func(func(_ context.Context, u, password string) (string, error) {
			switch {
			case u == "down":
				return "", errUserDB
			case u == "johndoe" && password == "foobar42":
				return "user-1", nil
			}
			return "", authcheck.ErrInvalidCredentials
		}),
	})
	require.NoError(t, err)
	s, err := policy.NewSessions(p, policy.SessionConfig{Scopes: []string{"read"}, Sliding: true})
	require.NoError(t, err)
	e := &sessEnv{env: &env{now: now, store: st, p: p}, s: s}

	secrets := []string{"SECRET-", "foobar42", secret}
	var l providertest.Leaks
	record := l.Response
	login := func(name string, form url.Values, o reqOpts) {
		w := serve(s.LoginHandler(), o.build(http.MethodPost, "/login", form))
		require.NotEqual(t, http.StatusOK, w.Code, "%s: %s", name, w.Body.String())
		record(name, w)
	}

	// Live credentials, which must appear only where they are handed out.
	cookie := e.login(t, reqOpts{})
	_, sessionValue, _ := strings.Cut(cookie, "=")
	r := httptest.NewRequest(http.MethodPost, "https://auth.example/oauth2/token",
		strings.NewReader("grant_type=password&username=johndoe&password=foobar42"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("User-Agent", "Firefox")
	r.RemoteAddr = "192.0.2.1:40000"
	r.SetBasicAuth("app", secret)
	w := httptest.NewRecorder()
	p.TokenHandler().ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	access := providertest.TokenPattern.FindString(w.Body.String())
	require.NotEmpty(t, access)
	secrets = append(secrets, sessionValue, access)

	login("wrong password", loginForm("johndoe", pw), reqOpts{})
	login("password as username", loginForm(pw, "x"), reqOpts{})
	login("malformed", loginForm("johndoe", pw+"\x00"), reqOpts{})
	login("user db down", loginForm("down", pw), reqOpts{})
	login("cross-origin", loginForm("johndoe", pw), reqOpts{site: "cross-site"})
	login("plain http", loginForm("johndoe", pw), reqOpts{plain: true})
	login("bad return_to", loginForm("johndoe", pw, "return_to", "https://evil.example/"+pw), reqOpts{})
	for range provider.DefaultUserRate.Burst + 1 {
		login("throttled", loginForm("johndoe", pw), reqOpts{remoteAddr: "192.0.2.9:1"})
	}

	policies := map[string]http.Handler{
		"cookie":           policy.Cookie(s)(echo),
		"cookie-or-bearer": policy.CookieOrBearer(s)(echo),
		"bearer":           policy.Bearer(p)(echo),
	}
	for name, h := range policies {
		for _, o := range []reqOpts{
			{cookie: "session=" + bogus},
			{cookie: "__Host-session=" + bogus},
			{bearer: "Bearer " + tok},
			{bearer: "Basic " + tok},
			{bearer: "Bearer " + tok + " " + tok},
			{cookie: cookie, plain: true},
			{bearer: "Bearer " + access, plain: true},
			{cookie: cookie, site: "cross-site"},
		} {
			record(name, serve(h, o.build(http.MethodPost, "/api", nil)))
		}
	}
	st.down.Store(true)
	for name, h := range policies {
		record(name+" outage", serve(h, reqOpts{cookie: cookie}.build(http.MethodGet, "/api", nil)))
		record(name+" outage", serve(h, reqOpts{bearer: "Bearer " + access}.build(http.MethodGet, "/api", nil)))
	}
	_, err = s.SignedInUser(reqOpts{cookie: cookie}.build(http.MethodGet, "/", nil))
	require.Error(t, err)
	l.Seen = append(l.Seen, err.Error())
	st.down.Store(false)
	st.revokeDown.Store(true)
	record("logout outage", serve(s.LogoutHandler(), reqOpts{cookie: cookie}.build(http.MethodPost, "/logout", url.Values{})))
	// From another user agent: the binding ends the session and the token
	// (the revocation fails, then succeeds).
	record("cookie mismatch", serve(policies["cookie"], reqOpts{cookie: cookie, ua: "curl"}.build(http.MethodGet, "/api", nil)))
	st.revokeDown.Store(false)
	record("bearer mismatch", serve(policies["bearer"], reqOpts{bearer: "Bearer " + access, ua: "curl"}.build(http.MethodGet, "/api", nil)))
	record("cookie mismatch", serve(policies["cookie"], reqOpts{cookie: cookie, ua: "curl"}.build(http.MethodGet, "/api", nil)))

	logged := log.String()
	require.Contains(t, logged, "binding_mismatch", "the flows logged their events")
	require.Contains(t, logged, "user_auth_failed", "the flows logged their events")
	l.Check(t, logged, secrets)
}
