package policy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertFailureRedirect checks a login failure answered for a plain HTML
// form: 303 to loc, no-store, and nothing else: no cookie, no body, no
// Retry-After (the page reads retry_after), no credential anywhere.
func assertFailureRedirect(t *testing.T, w *httptest.ResponseRecorder, loc string) {
	t.Helper()
	resp := w.Result()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, string(body))
	assert.Equal(t, http.Header{"Location": {loc}, "Cache-Control": {"no-store"}}, resp.Header)
	assert.Empty(t, body)
	for _, secret := range []string{"johndoe", "nobody", "foobar42", "nope", "password"} {
		assert.NotContains(t, resp.Header.Get("Location"), secret)
	}
}

// failure_to (RFC 6749 has no such thing: it is for the site's own
// plain HTML sign-in form): a failure the person can act on is 303 See
// Other back to the form with error=<code>, and retry_after=<seconds>
// when throttled; the description, username and password never go into
// the URL.
func TestLoginFailureToRedirectsWhatAPersonCanActOn(t *testing.T) {
	tests := []struct {
		name string
		prep func(e *sessEnv)
		form url.Values
		loc  string
	}{
		{"a wrong password is invalid_grant", nil,
			loginForm("johndoe", "nope", "failure_to", "/login"), "/login?error=invalid_grant"},
		{"an unknown user is invalid_grant too (never told apart)", nil,
			loginForm("nobody", "nope", "failure_to", "/login"), "/login?error=invalid_grant"},
		{"a missing password is invalid_request", nil,
			url.Values{"username": {"johndoe"}, "failure_to": {"/login"}}, "/login?error=invalid_request"},
		{"a missing username is invalid_request", nil,
			url.Values{"password": {"foobar42"}, "failure_to": {"/login"}}, "/login?error=invalid_request"},
		{"an empty password is invalid_request", nil,
			loginForm("johndoe", "", "failure_to", "/login"), "/login?error=invalid_request"},
		{"a user database outage is temporarily_unavailable", nil,
			loginForm("down", "foobar42", "failure_to", "/login"), "/login?error=temporarily_unavailable"},
		{"a store outage after the password check is temporarily_unavailable", func(e *sessEnv) { e.store.createDown.Store(true) },
			loginForm("johndoe", "foobar42", "failure_to", "/login"), "/login?error=temporarily_unavailable"},
		{"the path's own query is kept", nil,
			loginForm("johndoe", "nope", "failure_to", "/login?return_to=%2Foauth2%2Fauthorize%3Fstate%3Da%26b&lang=en"),
			"/login?error=invalid_grant&lang=en&return_to=%2Foauth2%2Fauthorize%3Fstate%3Da%26b"},
		{"an error or retry_after already in the path's query is replaced", nil,
			loginForm("johndoe", "nope", "failure_to", "/login?error=slow_down&retry_after=9&x=1"),
			"/login?error=invalid_grant&x=1"},
		{"a fragment is kept", nil,
			loginForm("johndoe", "nope", "failure_to", "/login#form"), "/login?error=invalid_grant#form"},
		{"an empty query is replaced", nil,
			loginForm("johndoe", "nope", "failure_to", "/login?"), "/login?error=invalid_grant"},
		{"a double-encoded path stays encoded: a path on this site", nil,
			loginForm("johndoe", "nope", "failure_to", "/%2F%2Fevil.example"), "/%2F%2Fevil.example?error=invalid_grant"},
		{"the path is kept as sent (net/url would write this one as //%20, another host)", nil,
			loginForm("johndoe", "nope", "failure_to", "/%2F x"), "/%2F x?error=invalid_grant"},
		{"a return_to alongside is not followed on failure", nil,
			loginForm("johndoe", "nope", "failure_to", "/login", "return_to", "/account"), "/login?error=invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSessEnv(t, sessOpts{})
			if tc.prep != nil {
				tc.prep(e)
			}
			w := serve(e.s.LoginHandler(), reqOpts{site: "same-origin"}.build(http.MethodPost, "/login", tc.form))
			assertFailureRedirect(t, w, tc.loc)
		})
	}
}

// A throttled login with failure_to is 303 with retry_after, the whole
// seconds the JSON answer's Retry-After says.
func TestLoginFailureToWhenThrottled(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	for i := range provider.DefaultUserRate.Burst {
		w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "nope", "failure_to", "/login")))
		require.Equal(t, http.StatusSeeOther, w.Code, "attempt %d: %s", i, w.Body.String())
		assertFailureRedirect(t, w, "/login?error=invalid_grant")
	}
	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	require.Equal(t, "60", w.Header().Get("Retry-After"))

	w = serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login",
		loginForm("johndoe", "foobar42", "failure_to", "/login?lang=en", "return_to", "/account")))
	assertFailureRedirect(t, w, "/login?error=slow_down&lang=en&retry_after=60")
}

// Failures that are attacks or programming errors keep their JSON answer
// even with a valid failure_to: the page that sent them is what must be
// fixed, and a redirect would hide it (or serve a cross-origin page).
func TestLoginFailureToDoesNotRedirectTheRest(t *testing.T) {
	withFailureTo := func(kv ...string) url.Values {
		return loginForm("johndoe", "foobar42", append([]string{"failure_to", "/login"}, kv...)...)
	}
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"PUT is 405", func() *http.Request {
			return reqOpts{}.build(http.MethodPut, "/login", withFailureTo())
		}, 405, "invalid_request"},
		{"a cross-site POST is 403", func() *http.Request {
			return reqOpts{site: "cross-site"}.build(http.MethodPost, "/login", withFailureTo())
		}, 403, "cross_origin_request"},
		{"a foreign Origin is 403", func() *http.Request {
			return reqOpts{origin: "https://evil.example"}.build(http.MethodPost, "/login", withFailureTo())
		}, 403, "cross_origin_request"},
		{"credentials in the URL query", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login?password=foobar42", withFailureTo())
		}, 400, "invalid_request"},
		{"failure_to in the URL query is not read", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login?failure_to=/login", loginForm("johndoe", "nope"))
		}, 400, "invalid_grant"},
		{"plain HTTP", func() *http.Request {
			return reqOpts{plain: true}.build(http.MethodPost, "/login", withFailureTo())
		}, 400, "invalid_request"},
		{"another content type", func() *http.Request {
			r := reqOpts{}.build(http.MethodPost, "/login", withFailureTo())
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, 400, "invalid_request"},
		{"a body over the limit", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login", withFailureTo("pad", strings.Repeat("x", provider.DefaultMaxRequestBytes)))
		}, 413, "invalid_request"},
		{"an unsafe return_to", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login", withFailureTo("return_to", "//evil.example"))
		}, 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSessEnv(t, sessOpts{})
			w := serve(e.s.LoginHandler(), tc.req())
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, tc.code, errorCode(t, w))
			assert.Empty(t, w.Header().Get("Location"))
			assert.Empty(t, w.Header().Values("Set-Cookie"))
		})
	}

	// Password login not enabled (no Config.Users): the app's own error.
	st := memory.New(memory.Config{})
	p, err := provider.New(provider.Config{Clients: st, Tokens: st})
	require.NoError(t, err)
	s, err := policy.NewSessions(p, policy.SessionConfig{})
	require.NoError(t, err)
	w := serve(s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", withFailureTo()))
	assert.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
	assert.Equal(t, "unsupported_grant_type", errorCode(t, w))
	assert.Empty(t, w.Header().Get("Location"))
}

// A failure_to that is not a path on this site is refused as return_to
// is: 400 invalid_request JSON, before the password is checked (so the
// right password sets no cookie and a wrong one is not counted), and
// never followed. The raw bodies are what a browser sends.
func TestLoginFailureToOpenRedirectIsRefused(t *testing.T) {
	for _, body := range []string{
		"failure_to=%2F%2Fevil.example",
		"failure_to=//evil.example/login",
		"failure_to=https%3A%2F%2Fevil.example%2Flogin",
		"failure_to=https://evil.example",
		"failure_to=%2F%5Cevil.example",
		`failure_to=/\evil.example`,
		"failure_to=%5C%5Cevil.example",
		"failure_to=%2F%09%2Fevil.example",
		"failure_to=%2F%0D%0ALocation:+https://evil.example",
		"failure_to=javascript:alert(1)",
		"failure_to=evil.example",
		"failure_to=%2Flogin%25zz",
		"failure_to=%2Flogin%3F%25zz", // a query net/url cannot read
		"failure_to=%2Flogin%3Fa%3D1%3Bb%3D2",
	} {
		for _, pw := range []string{"foobar42", "nope"} {
			t.Run(body+"/"+pw, func(t *testing.T) {
				e := newSessEnv(t, sessOpts{})
				full := body + "&username=johndoe&password=" + pw
				r := reqOpts{}.build(http.MethodPost, "/login", url.Values{})
				r.Body, r.ContentLength = io.NopCloser(strings.NewReader(full)), int64(len(full))
				w := serve(e.s.LoginHandler(), r)
				assert.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
				assert.Equal(t, "invalid_request", errorCode(t, w))
				assert.Contains(t, w.Body.String(), "failure_to must be a path on this site")
				assert.Empty(t, w.Header().Get("Location"))
				assert.Empty(t, w.Header().Values("Set-Cookie"))
			})
		}
	}
	// Refused before the check: none of those attempts was counted.
	e := newSessEnv(t, sessOpts{})
	for range provider.DefaultUserRate.Burst + 1 {
		w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "nope", "failure_to", "//evil.example")))
		require.Equal(t, http.StatusBadRequest, w.Code)
	}
	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
}

// Success is as without failure_to: 303 to return_to with the cookie, or
// 200 JSON.
func TestLoginFailureToLeavesSuccessAlone(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login",
		loginForm("johndoe", "foobar42", "failure_to", "/login?x=1", "return_to", "/account")))
	assert.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	assert.Equal(t, "/account", w.Header().Get("Location"))
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Contains(t, w.Header().Get("Set-Cookie"), "__Host-session=ost_")

	w = serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login",
		loginForm("johndoe", "foobar42", "failure_to", "/login")))
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Empty(t, w.Header().Get("Location"))
	assert.Contains(t, w.Body.String(), `"user_id":"user-johndoe"`)
	assert.Contains(t, w.Header().Get("Set-Cookie"), "__Host-session=ost_")
}
