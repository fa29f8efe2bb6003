package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sessEnv is a provider over the memory store with sessions.
type sessEnv struct {
	*env
	s *policy.Sessions
}

type sessOpts struct {
	cfg      policy.SessionConfig
	insecure bool         // provider.Config.AllowInsecureHTTP
	bind     bool         // provider.Config.BindingKey
	logger   *slog.Logger // provider.Config.Logger
}

// errUserDB is the user database failing.
var errUserDB = errors.New("users: connection refused")

func newSessEnv(t testing.TB, o sessOpts) *sessEnv {
	t.Helper()
	e := &env{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	clock := func() time.Time { return e.now }
	e.store = &flakyStore{Store: memory.New(memory.Config{Now: clock})}
	require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{
		ID: "app", SecretHash: storage.HashGeneratedSecret(secret),
		GrantTypes: []string{storage.GrantPassword, storage.GrantClientCredentials}, Scopes: []string{"read", "write"},
	}))
	cfg := provider.Config{
		Clients: e.store, Tokens: e.store, Realm: "api", Now: clock,
		AllowInsecureHTTP: o.insecure,
		Logger:            o.logger,
		TrustedProxies:    []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Users: authcheck.Func(func(_ context.Context, u, pw string) (string, error) {
			switch {
			case u == "down":
				return "", errUserDB
			case pw == "foobar42":
				return "user-" + u, nil
			}
			return "", authcheck.ErrInvalidCredentials
		}),
	}
	if o.bind {
		cfg.BindingKey = []byte(strings.Repeat("k", 32))
	}
	p, err := provider.New(cfg)
	require.NoError(t, err)
	e.p = p
	if o.cfg.Scopes == nil {
		o.cfg.Scopes = []string{"read"}
	}
	s, err := policy.NewSessions(p, o.cfg)
	require.NoError(t, err)
	return &sessEnv{env: e, s: s}
}

// reqOpts describes a request; zero fields mean an HTTPS same-origin
// request from 192.0.2.1 with User-Agent "Firefox".
type reqOpts struct {
	cookie     string
	bearer     string // full Authorization header value
	site       string // Sec-Fetch-Site
	origin     string
	ua         string
	remoteAddr string
	xff        string
	plain      bool
}

func (o reqOpts) build(method, path string, body url.Values) *http.Request {
	base := "https://app.example"
	if o.plain {
		base = "http://app.example"
	}
	var r *http.Request
	if body != nil {
		r = httptest.NewRequest(method, base+path, strings.NewReader(body.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, base+path, nil)
	}
	r.RemoteAddr = "192.0.2.1:40000"
	if o.remoteAddr != "" {
		r.RemoteAddr = o.remoteAddr
	}
	r.Header.Set("User-Agent", "Firefox")
	if o.ua != "" {
		r.Header.Set("User-Agent", o.ua)
	}
	if o.cookie != "" {
		r.Header.Set("Cookie", o.cookie)
	}
	if o.bearer != "" {
		r.Header.Set("Authorization", o.bearer)
	}
	if o.site != "" {
		r.Header.Set("Sec-Fetch-Site", o.site)
	}
	if o.origin != "" {
		r.Header.Set("Origin", o.origin)
	}
	if o.xff != "" {
		r.Header.Set("X-Forwarded-For", o.xff)
	}
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func loginForm(user, pw string, kv ...string) url.Values {
	v := url.Values{"username": {user}, "password": {pw}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// login logs johndoe in and returns the "name=value" of the session cookie.
func (e *sessEnv) login(t testing.TB, o reqOpts) string {
	t.Helper()
	w := serve(e.s.LoginHandler(), o.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	cookies := w.Result().Cookies()
	require.Len(t, cookies, 1)
	return cookies[0].Name + "=" + cookies[0].Value
}

// echo answers with the request's identity as JSON.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id, ok := policy.IdentityFrom(r.Context())
	if !ok {
		http.Error(w, "no identity", http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(id)
})

func identityOf(t testing.TB, w *httptest.ResponseRecorder) policy.Identity {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var id policy.Identity
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &id))
	return id
}

func errorCode(t testing.TB, w *httptest.ResponseRecorder) string {
	t.Helper()
	var m map[string]string
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m), w.Body.String())
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	return m["error"]
}

func TestLoginSetsAHardenedCookie(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	w := serve(e.s.LoginHandler(), reqOpts{site: "same-origin"}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "application/json;charset=utf-8", w.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.JSONEq(t, `{"user_id":"user-johndoe","scope":"read","expires_in":86400}`, w.Body.String())
	assert.Regexp(t, `^__Host-session=ost_[A-Za-z0-9_-]{71}; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax$`,
		w.Header().Get("Set-Cookie"))
	assert.Equal(t, "__Host-session", e.s.CookieName())
	assert.NotContains(t, w.Body.String(), "ost_", "the session token is in the cookie only")
}

// The login's JSON answer is framed like the token endpoint's: scopes
// joined by spaces (RFC 6749 §3.3), Pragma: no-cache for HTTP/1.0 caches,
// and a Content-Length that counts the whole body, its newline included.
func TestLoginAnswerIsFramedLikeATokenResponse(t *testing.T) {
	e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{Scopes: []string{"read", "write"}}})
	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, `{"user_id":"user-johndoe","scope":"read write","expires_in":86400}`+"\n", w.Body.String())
	assert.Equal(t, "application/json;charset=utf-8", w.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Equal(t, "no-cache", w.Header().Get("Pragma"))
	assert.Equal(t, strconv.Itoa(w.Body.Len()), w.Header().Get("Content-Length"))
}

// The login's expires_in and the cookie's Max-Age count from the answer,
// not from before the store was written: a store that took 2 s leaves
// 2 s less of the session, and neither overstates it.
func TestLoginExpiresInCountsFromTheAnswer(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	e.store.onCreate = func() { e.now = e.now.Add(2 * time.Second) }
	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"user_id":"user-johndoe","scope":"read","expires_in":86398}`, w.Body.String())
	assert.Contains(t, w.Header().Get("Set-Cookie"), "; Max-Age=86398;")
}

// A session cookie always carries a Max-Age: a store as slow as the TTL
// leaves no whole second, and the cookie gets one rather than no Max-Age,
// which would make it a browser-session cookie with no end.
func TestLoginCookieAlwaysHasAMaxAge(t *testing.T) {
	e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{TTL: time.Second}})
	e.store.onCreate = func() { e.now = e.now.Add(time.Second) }
	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Contains(t, w.Header().Get("Set-Cookie"), "; Max-Age=1;")
}

func TestLoginOverPlainHTTPWhenAllowed(t *testing.T) {
	e := newSessEnv(t, sessOpts{insecure: true, cfg: policy.SessionConfig{Name: "sid", TTL: time.Hour}})
	w := serve(e.s.LoginHandler(), reqOpts{plain: true}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Regexp(t, `^sid=ost_[A-Za-z0-9_-]{71}; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax$`, w.Header().Get("Set-Cookie"))
}

// Allowing plain HTTP does not weaken the cookie of a login that came over
// HTTPS: it is Secure (its name, fixed by the configuration, has no
// "__Host-" prefix).
func TestLoginOverHTTPSWhenPlainHTTPAllowed(t *testing.T) {
	e := newSessEnv(t, sessOpts{insecure: true, cfg: policy.SessionConfig{Name: "sid", TTL: time.Hour}})
	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Regexp(t, `^sid=ost_[A-Za-z0-9_-]{71}; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax$`, w.Header().Get("Set-Cookie"))
}

// Logging out over HTTPS with plain HTTP allowed clears the cookie as it
// was set there: Secure.
func TestLogoutOverHTTPSWhenPlainHTTPAllowed(t *testing.T) {
	e := newSessEnv(t, sessOpts{insecure: true, cfg: policy.SessionConfig{Name: "sid", TTL: time.Hour}})
	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	cookie := strings.TrimPrefix(strings.SplitN(w.Header().Get("Set-Cookie"), ";", 2)[0], "sid=")
	w = serve(e.s.LogoutHandler(), reqOpts{cookie: cookie, site: "same-origin"}.build(http.MethodPost, "/logout", nil))
	assert.Regexp(t, `^sid=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax$`, w.Header().Get("Set-Cookie"))
}

// Where HTTPS is required, the cookie is Secure in every response, even
// to a request that came in the clear: logging out over plain HTTP clears
// the __Host- cookie with a Secure one (without it a browser ignores the
// clearing cookie).
func TestLogoutOverPlainHTTPClearsASecureCookie(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	w := serve(e.s.LogoutHandler(), reqOpts{site: "same-origin", plain: true}.build(http.MethodPost, "/logout", nil))
	assert.Regexp(t, `^__Host-session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax$`, w.Header().Get("Set-Cookie"))
}

// The login form may be as large as provider.Config.MaxRequestBytes,
// and no larger.
func TestLoginBodyLimitIsMaxRequestBytes(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	padding := provider.DefaultMaxRequestBytes - len(loginForm("johndoe", "foobar42", "pad", "").Encode())
	for n, want := range map[int]int{padding: http.StatusOK, padding + 1: http.StatusRequestEntityTooLarge} {
		form := loginForm("johndoe", "foobar42", "pad", strings.Repeat("x", n))
		w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", form))
		assert.Equal(t, want, w.Code, "a body of %d bytes: %s", len(form.Encode()), w.Body)
	}
}

// The URL query of a login is never read: one net/url cannot parse (a
// page at /login?promo=100% whose form posts to its own URL) does not
// make a well-formed body "malformed".
func TestLoginIgnoresAMalformedQuery(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	for _, target := range []string{"/login?promo=100%", "/login?a=1;b=2"} {
		w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, target, loginForm("johndoe", "foobar42")))
		assert.Equal(t, http.StatusOK, w.Code, "%s: %s", target, w.Body)
	}
}

func TestLoginRedirectsToReturnTo(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login",
		loginForm("johndoe", "foobar42", "return_to", "/account?tab=1")))
	assert.Equal(t, http.StatusSeeOther, w.Code)
	assert.Equal(t, "/account?tab=1", w.Header().Get("Location"))
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"), "a redirect that sets a session is not cached")
	assert.Contains(t, w.Header().Get("Set-Cookie"), "__Host-session=ost_")
}

// return_to is read from the form body only, like the credentials: one in
// the URL query (a link crafted to bounce the user on after login) is not
// followed.
func TestReturnToInTheQueryIsIgnored(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login?return_to=/account", loginForm("johndoe", "foobar42")))
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Empty(t, w.Header().Get("Location"))
	cookie := w.Result().Cookies()[0]
	w = serve(e.s.LogoutHandler(), reqOpts{cookie: cookie.Name + "=" + cookie.Value}.build(http.MethodPost, "/logout?return_to=/bye", url.Values{}))
	assert.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	assert.Empty(t, w.Header().Get("Location"))
}

func TestLoginFailuresSetNoCookie(t *testing.T) {
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"GET is 405", func() *http.Request {
			return reqOpts{}.build(http.MethodGet, "/login?username=johndoe&password=foobar42", nil)
		}, 405, "invalid_request"},
		{"PUT is 405", func() *http.Request {
			return reqOpts{}.build(http.MethodPut, "/login", loginForm("johndoe", "foobar42"))
		}, 405, "invalid_request"},
		{"a cross-site POST is refused (login CSRF)", func() *http.Request {
			return reqOpts{site: "cross-site"}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42"))
		}, 403, "cross_origin_request"},
		{"a foreign Origin is refused", func() *http.Request {
			return reqOpts{origin: "https://evil.example"}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42"))
		}, 403, "cross_origin_request"},
		{"plain HTTP is refused", func() *http.Request {
			return reqOpts{plain: true}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42"))
		}, 400, "invalid_request"},
		{"a wrong password is invalid_grant", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "nope"))
		}, 400, "invalid_grant"},
		{"a missing password is invalid_request", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login", url.Values{"username": {"johndoe"}})
		}, 400, "invalid_request"},
		{"credentials in the query are not read", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login?username=johndoe&password=foobar42", url.Values{})
		}, 400, "invalid_request"},
		{"a password in the query is refused, even with the body's (it is in the logs)", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login?password=foobar42", loginForm("johndoe", "foobar42"))
		}, 400, "invalid_request"},
		{"a username in the query is refused (it may be a mistyped password)", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login?username=johndoe", loginForm("johndoe", "foobar42"))
		}, 400, "invalid_request"},
		{"an escaped password key in the query is refused", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login?pass%77ord=foobar42", loginForm("johndoe", "foobar42"))
		}, 400, "invalid_request"},
		{"a JSON body is invalid_request", func() *http.Request {
			r := reqOpts{}.build(http.MethodPost, "/login", nil)
			r.Body = http.NoBody
			r.Header.Set("Content-Type", "application/json")
			return r
		}, 400, "invalid_request"},
		{"a malformed form body is invalid_request", func() *http.Request {
			r := reqOpts{}.build(http.MethodPost, "/login", url.Values{})
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader("username=%zz")), 12
			return r
		}, 400, "invalid_request"},
		{"a scheme-relative return_to is refused", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42", "return_to", "//evil.example/"))
		}, 400, "invalid_request"},
		{"an absolute return_to is refused", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42", "return_to", "https://evil.example/"))
		}, 400, "invalid_request"},
		{"a backslash return_to is refused", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42", "return_to", `/\evil.example`))
		}, 400, "invalid_request"},
		{"a return_to with a tab (browsers drop it: //evil) is refused", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42", "return_to", "/\t/evil.example"))
		}, 400, "invalid_request"},
		{"a return_to with CR LF (header injection) is refused", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42", "return_to", "/\r\nSet-Cookie: x=y"))
		}, 400, "invalid_request"},
		{"a return_to with a malformed escape is refused", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42", "return_to", "/account%zz"))
		}, 400, "invalid_request"},
		{"a relative return_to is refused", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42", "return_to", "evil.example"))
		}, 400, "invalid_request"},
		{"a user database outage is 503", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login", loginForm("down", "foobar42"))
		}, 503, "temporarily_unavailable"},
		{"a body over the limit is 413, as at the token endpoint", func() *http.Request {
			return reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42", "pad", strings.Repeat("x", provider.DefaultMaxRequestBytes)))
		}, 413, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSessEnv(t, sessOpts{})
			w := serve(e.s.LoginHandler(), tc.req())
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, tc.code, errorCode(t, w))
			assert.Empty(t, w.Header().Values("Set-Cookie"), "a failed login sets no cookie")
			if tc.status == 405 {
				assert.Equal(t, "POST", w.Header().Get("Allow"))
			}
		})
	}
}

func TestCookiePolicyRules(t *testing.T) {
	tests := []struct {
		name   string
		prep   func(t *testing.T, e *sessEnv, cookie string) *http.Request
		status int
		code   string
		clears bool // the answer clears the cookie
	}{
		{"a live session passes", func(t *testing.T, e *sessEnv, c string) *http.Request {
			return reqOpts{cookie: c}.build(http.MethodGet, "/me", nil)
		}, 200, "", false},
		{"no cookie is 401", func(t *testing.T, e *sessEnv, c string) *http.Request {
			return reqOpts{}.build(http.MethodGet, "/me", nil)
		}, 401, "unauthorized", false},
		{"a forged cookie is 401 and cleared", func(t *testing.T, e *sessEnv, c string) *http.Request {
			return reqOpts{cookie: "__Host-session=ost_forged"}.build(http.MethodGet, "/me", nil)
		}, 401, "invalid_token", true},
		{"a cookie of another name does not count", func(t *testing.T, e *sessEnv, c string) *http.Request {
			return reqOpts{cookie: "session" + strings.TrimPrefix(c, "__Host-session")}.build(http.MethodGet, "/me", nil)
		}, 401, "unauthorized", false},
		{"an expired session is 401", func(t *testing.T, e *sessEnv, c string) *http.Request {
			e.now = e.now.Add(24 * time.Hour)
			return reqOpts{cookie: c}.build(http.MethodGet, "/me", nil)
		}, 401, "invalid_token", true},
		{"revoking the user ends the session", func(t *testing.T, e *sessEnv, c string) *http.Request {
			n, err := e.store.RevokeUser(context.Background(), "user-johndoe")
			require.NoError(t, err)
			require.Equal(t, 1, n)
			return reqOpts{cookie: c}.build(http.MethodGet, "/me", nil)
		}, 401, "invalid_token", true},
		{"revoking every client leaves sessions alone", func(t *testing.T, e *sessEnv, c string) *http.Request {
			_, err := e.p.DisableClient(context.Background(), "app")
			require.NoError(t, err)
			return reqOpts{cookie: c}.build(http.MethodGet, "/me", nil)
		}, 200, "", false},
		{"a cross-site POST with the cookie is 403", func(t *testing.T, e *sessEnv, c string) *http.Request {
			return reqOpts{cookie: c, site: "cross-site"}.build(http.MethodPost, "/me", url.Values{})
		}, 403, "cross_origin_request", false},
		{"a same-origin POST with the cookie passes", func(t *testing.T, e *sessEnv, c string) *http.Request {
			return reqOpts{cookie: c, site: "same-origin"}.build(http.MethodPost, "/me", url.Values{})
		}, 200, "", false},
		{"a cross-site GET with the cookie passes (safe method)", func(t *testing.T, e *sessEnv, c string) *http.Request {
			return reqOpts{cookie: c, site: "cross-site"}.build(http.MethodGet, "/me", nil)
		}, 200, "", false},
		{"a store outage is 503", func(t *testing.T, e *sessEnv, c string) *http.Request {
			e.store.down.Store(true)
			return reqOpts{cookie: c}.build(http.MethodGet, "/me", nil)
		}, 503, "temporarily_unavailable", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{Scopes: []string{"read", "write"}}})
			cookie := e.login(t, reqOpts{})
			w := serve(policy.Cookie(e.s)(echo), tc.prep(t, e, cookie))
			if tc.status == 200 {
				id := identityOf(t, w)
				assert.Equal(t, policy.Identity{UserID: "user-johndoe", ClientID: "", GrantID: id.GrantID,
					Scopes: []string{"read", "write"}, Method: policy.MethodCookie}, id)
				assert.NotEmpty(t, id.GrantID)
				assert.Empty(t, w.Header().Values("Set-Cookie"), "no sliding: no renewal")
				return
			}
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, tc.code, errorCode(t, w))
			// Every failure carries the challenge, the 503 too, as under Bearer.
			assert.Equal(t, `Cookie realm="api"`, w.Header().Get("WWW-Authenticate"))
			if tc.status == 503 {
				assert.Equal(t, "1", w.Header().Get("Retry-After"))
			}
			if tc.clears {
				assert.Equal(t, "__Host-session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax", w.Header().Get("Set-Cookie"))
			} else {
				assert.Empty(t, w.Header().Values("Set-Cookie"))
			}
		})
	}
}

func TestLogoutEndsTheSessionServerSide(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	cookie := e.login(t, reqOpts{})
	me := policy.Cookie(e.s)(echo)
	require.Equal(t, 200, serve(me, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil)).Code)

	w := serve(e.s.LogoutHandler(), reqOpts{cookie: cookie, site: "same-origin"}.build(http.MethodPost, "/logout", nil))
	assert.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	assert.Equal(t, "__Host-session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax", w.Header().Get("Set-Cookie"))

	// A browser (or thief) that kept the old value is refused.
	w = serve(me, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "invalid_token", errorCode(t, w))

	// Logging out again is harmless.
	w = serve(e.s.LogoutHandler(), reqOpts{cookie: cookie}.build(http.MethodPost, "/logout", url.Values{"return_to": {"/"}}))
	assert.Equal(t, http.StatusSeeOther, w.Code)
	assert.Equal(t, "/", w.Header().Get("Location"))
}

// Failed logins are throttled like the password grant: once the user's
// burst from one IP is spent, even the right password is 429 slow_down
// with Retry-After, and no cookie is set; another IP is not locked out.
func TestLoginIsThrottled(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	for i := range provider.DefaultUserRate.Burst {
		w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "nope")))
		require.Equal(t, http.StatusBadRequest, w.Code, "attempt %d: %s", i, w.Body.String())
	}
	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "60", w.Header().Get("Retry-After"))
	assert.JSONEq(t, `{"error":"slow_down","error_description":"too many failed attempts, try again later"}`, w.Body.String())
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Empty(t, w.Header().Values("Set-Cookie"), "a throttled login sets no cookie")

	w = serve(e.s.LoginHandler(), reqOpts{remoteAddr: "198.51.100.7:1234"}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	assert.Equal(t, http.StatusOK, w.Code, "the user can still log in from elsewhere: %s", w.Body.String())
}

func TestCurrentUser(t *testing.T) {
	e := newSessEnv(t, sessOpts{bind: true})
	get := func(o reqOpts) (string, bool) {
		return e.s.CurrentUser(o.build(http.MethodGet, "/oauth2/authorize", nil))
	}

	_, ok := get(reqOpts{})
	assert.False(t, ok, "no cookie: nobody is signed in")
	_, ok = get(reqOpts{cookie: "__Host-session=ost_bogus"})
	assert.False(t, ok, "a malformed session is nobody")

	cookie := e.login(t, reqOpts{})
	id, ok := get(reqOpts{cookie: cookie})
	assert.True(t, ok)
	assert.Equal(t, "user-johndoe", id)

	e.store.down.Store(true)
	_, ok = get(reqOpts{cookie: cookie})
	assert.False(t, ok, "a store outage signs nobody in")
	e.store.down.Store(false)

	_, ok = get(reqOpts{cookie: cookie, ua: "curl/8"})
	assert.False(t, ok, "a binding mismatch is nobody")
	_, ok = get(reqOpts{cookie: cookie})
	assert.False(t, ok, "and it ended the session")
}

func TestLogoutRules(t *testing.T) {
	tests := []struct {
		name   string
		req    func(cookie string) *http.Request
		status int
		ended  bool
	}{
		{"a cross-site POST cannot log the user out", func(c string) *http.Request {
			return reqOpts{cookie: c, site: "cross-site"}.build(http.MethodPost, "/logout", nil)
		}, 403, false},
		{"GET is 405", func(c string) *http.Request {
			return reqOpts{cookie: c}.build(http.MethodGet, "/logout", nil)
		}, 405, false},
		{"an unsafe return_to is 400", func(c string) *http.Request {
			return reqOpts{cookie: c}.build(http.MethodPost, "/logout", url.Values{"return_to": {"//evil.example"}})
		}, 400, false},
		{"a body without a Content-Type is 400", func(c string) *http.Request {
			r := reqOpts{cookie: c}.build(http.MethodPost, "/logout", nil)
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(`{"x":1}`)), 7
			return r
		}, 400, false},
		{"a body of unknown length without a Content-Type is 400", func(c string) *http.Request {
			r := reqOpts{cookie: c}.build(http.MethodPost, "/logout", nil)
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(`{"x":1}`)), -1
			return r
		}, 400, false},
		{"another Content-Type is 400, even without a body", func(c string) *http.Request {
			r := reqOpts{cookie: c}.build(http.MethodPost, "/logout", nil)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, 400, false},
		{"without a cookie it is 204", func(c string) *http.Request {
			return reqOpts{}.build(http.MethodPost, "/logout", nil)
		}, 204, false},
		{"with a forged cookie it is 204", func(c string) *http.Request {
			return reqOpts{cookie: "__Host-session=ost_x"}.build(http.MethodPost, "/logout", nil)
		}, 204, false},
		{"a same-origin POST ends the session", func(c string) *http.Request {
			return reqOpts{cookie: c, site: "same-origin"}.build(http.MethodPost, "/logout", nil)
		}, 204, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSessEnv(t, sessOpts{})
			cookie := e.login(t, reqOpts{})
			w := serve(e.s.LogoutHandler(), tc.req(cookie))
			assert.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			after := serve(policy.Cookie(e.s)(echo), reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
			if tc.ended {
				assert.Equal(t, http.StatusUnauthorized, after.Code)
			} else {
				assert.Equal(t, http.StatusOK, after.Code, "the session lives on")
			}
		})
	}
}

func TestLogoutStoreOutageKeepsTheCookie(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	cookie := e.login(t, reqOpts{})
	e.store.down.Store(true)
	w := serve(e.s.LogoutHandler(), reqOpts{cookie: cookie}.build(http.MethodPost, "/logout", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Empty(t, w.Header().Values("Set-Cookie"))
}

// A logout whose browser goes before the answer (the tab closed right
// after the click) still ends the session, with a store that, as
// networked ones do, fails every lookup made with a done context: the
// user took it for logged out, and a cookie left behind on a shared
// computer must not live on.
func TestLogoutOutlivesTheBrowser(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	cookie := e.login(t, reqOpts{})
	e.store.ctxBound.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	serve(e.s.LogoutHandler(), reqOpts{cookie: cookie, site: "same-origin"}.build(http.MethodPost, "/logout", nil).WithContext(ctx))
	w := serve(policy.Cookie(e.s)(echo), reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
	assert.Equal(t, http.StatusUnauthorized, w.Code, "the session lives on: %s", w.Body.String())
}

func TestLoginEndsThePreviousSession(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	first := e.login(t, reqOpts{})
	second := e.login(t, reqOpts{cookie: first})
	assert.NotEqual(t, first, second, "a login always makes a new session ID")
	me := policy.Cookie(e.s)(echo)
	assert.Equal(t, http.StatusUnauthorized, serve(me, reqOpts{cookie: first}.build(http.MethodGet, "/me", nil)).Code)
	assert.Equal(t, http.StatusOK, serve(me, reqOpts{cookie: second}.build(http.MethodGet, "/me", nil)).Code)
}

func TestSlidingSessions(t *testing.T) {
	e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{TTL: 10 * time.Hour, Sliding: true, MaxLifetime: 25 * time.Hour}})
	cookie := e.login(t, reqOpts{})
	me := policy.Cookie(e.s)(echo)
	get := func() *httptest.ResponseRecorder {
		return serve(me, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
	}

	e.now = e.now.Add(30 * time.Minute) // less than TTL/10 since login: no store write
	w := get()
	require.Equal(t, 200, w.Code)
	assert.Empty(t, w.Header().Values("Set-Cookie"))
	assert.Empty(t, w.Header().Values("Cache-Control"), "nothing renewed, nothing to keep from caches")

	e.now = e.now.Add(8 * time.Hour) // 8h30 in: renewed to 10h from now
	w = get()
	require.Equal(t, 200, w.Code)
	assert.Regexp(t, `^__Host-session=ost_[^;]+; Path=/; Max-Age=36000; HttpOnly; Secure; SameSite=Lax$`, w.Header().Get("Set-Cookie"))
	assert.Equal(t, []string{"no-store"}, w.Header().Values("Cache-Control"), "a shared cache must not keep a renewed session")

	e.now = e.now.Add(9 * time.Hour) // 17h30 in: alive only thanks to the renewal; renewed up to the cap (25h)
	w = get()
	require.Equal(t, 200, w.Code)
	assert.Contains(t, w.Header().Get("Set-Cookie"), "Max-Age=27000")

	e.now = e.now.Add(7*time.Hour + 29*time.Minute) // 24h59 in: still alive, no renewal past the cap
	w = get()
	require.Equal(t, 200, w.Code)
	assert.Empty(t, w.Header().Values("Set-Cookie"))

	e.now = e.now.Add(time.Minute) // 25h: MaxLifetime reached
	assert.Equal(t, http.StatusUnauthorized, get().Code)
}

// docs/policies.md: a zero SessionConfig.MaxLifetime caps a sliding
// session at 30 days after login, however active it is.
func TestSlidingSessionDefaultMaxLifetimeIs30Days(t *testing.T) {
	e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{Sliding: true}})
	login := e.now
	cookie := e.login(t, reqOpts{})
	me := policy.Cookie(e.s)(echo)
	for e.now.Sub(login) < 30*24*time.Hour-time.Hour {
		e.now = e.now.Add(time.Hour)
		require.Equal(t, 200, serve(me, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil)).Code, "at %v", e.now.Sub(login))
	}
	e.now = login.Add(30 * 24 * time.Hour)
	assert.Equal(t, http.StatusUnauthorized, serve(me, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil)).Code)
}

// A sliding session is renewed once a tenth of TTL has passed since its
// last renewal (SessionConfig.Sliding), not before.
func TestSlidingSessionRenewsAfterATenthOfTTL(t *testing.T) {
	e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{TTL: 10 * time.Hour, Sliding: true}})
	cookie := e.login(t, reqOpts{})
	me := policy.Cookie(e.s)(echo)
	get := func() *httptest.ResponseRecorder {
		return serve(me, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
	}
	e.now = e.now.Add(time.Hour - time.Second)
	w := get()
	require.Equal(t, 200, w.Code)
	assert.Empty(t, w.Header().Values("Set-Cookie"), "less than TTL/10 in")
	e.now = e.now.Add(time.Second)
	w = get()
	require.Equal(t, 200, w.Code)
	assert.Contains(t, w.Header().Get("Set-Cookie"), "Max-Age=36000", "TTL/10 in")
}

// A renewal the store fails sets no cookie (nor no-store): the browser
// keeps the cookie it has, whose expiry the store still holds, and the
// request goes through.
func TestSlidingSessionRenewalFailureSetsNoCookie(t *testing.T) {
	e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{TTL: 10 * time.Hour, Sliding: true}})
	cookie := e.login(t, reqOpts{})
	me := policy.Cookie(e.s)(echo)
	e.now = e.now.Add(5 * time.Hour)
	e.store.extendDown.Store(true)
	w := serve(me, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
	require.Equal(t, 200, w.Code)
	assert.Empty(t, w.Header().Values("Set-Cookie"))
	assert.Empty(t, w.Header().Values("Cache-Control"))
	e.store.extendDown.Store(false)
	e.now = e.now.Add(5 * time.Hour) // the old expiry: the renewal did not happen
	assert.Equal(t, http.StatusUnauthorized, serve(me, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil)).Code)
}

func TestFixedSessionsEndAfterTTL(t *testing.T) {
	e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{TTL: 10 * time.Hour}})
	cookie := e.login(t, reqOpts{})
	me := policy.Cookie(e.s)(echo)
	e.now = e.now.Add(9 * time.Hour)
	require.Equal(t, 200, serve(me, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil)).Code)
	e.now = e.now.Add(time.Hour)
	assert.Equal(t, 401, serve(me, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil)).Code)
}

func TestSessionBinding(t *testing.T) {
	tests := []struct {
		name  string
		o     reqOpts
		valid bool
	}{
		{"the same browser passes", reqOpts{}, true},
		{"a spoofed X-Forwarded-For from an untrusted peer changes nothing", reqOpts{xff: "203.0.113.9"}, true},
		{"another User-Agent ends the session", reqOpts{ua: "curl/8"}, false},
		{"another IP ends the session", reqOpts{remoteAddr: "198.51.100.7:1"}, false},
		{"another IP cannot pass itself off as the bound one", reqOpts{remoteAddr: "198.51.100.7:1", xff: "192.0.2.1"}, false},
		{"a trusted proxy forwarding the bound IP passes", reqOpts{remoteAddr: "10.0.0.2:1", xff: "192.0.2.1"}, true},
		{"the bound IPv4 address on a dual-stack listener passes", reqOpts{remoteAddr: "[::ffff:192.0.2.1]:40000"}, true},
		{"a trusted proxy forwarding it IPv4-mapped passes", reqOpts{remoteAddr: "10.0.0.2:1", xff: "::ffff:192.0.2.1"}, true},
		{"an IPv6 address ends the session", reqOpts{remoteAddr: "[2001:db8::1]:40000"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSessEnv(t, sessOpts{bind: true})
			cookie := e.login(t, reqOpts{})
			me := policy.Cookie(e.s)(echo)
			o := tc.o
			o.cookie = cookie
			w := serve(me, o.build(http.MethodGet, "/me", nil))
			if tc.valid {
				assert.Equal(t, 200, w.Code, w.Body.String())
				return
			}
			assert.Equal(t, 401, w.Code)
			assert.Equal(t, "invalid_token", errorCode(t, w))
			w = serve(me, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
			assert.Equal(t, 401, w.Code, "a wrong try destroys the session")
		})
	}
}

func TestCookieOrBearerRules(t *testing.T) {
	tests := []struct {
		name      string
		req       func(cookie, bearer string) *http.Request
		status    int
		method    string // identity method on 200
		challenge string
	}{
		{"a cookie alone passes as cookie", func(c, b string) *http.Request {
			return reqOpts{cookie: c}.build(http.MethodGet, "/me", nil)
		}, 200, "cookie", ""},
		{"a bearer alone passes as bearer", func(c, b string) *http.Request {
			return reqOpts{bearer: "Bearer " + b}.build(http.MethodGet, "/me", nil)
		}, 200, "bearer", ""},
		{"bearer wins over a valid cookie", func(c, b string) *http.Request {
			return reqOpts{cookie: c, bearer: "Bearer " + b}.build(http.MethodGet, "/me", nil)
		}, 200, "bearer", ""},
		{"a bad bearer with a good cookie is 401", func(c, b string) *http.Request {
			return reqOpts{cookie: c, bearer: "Bearer oat_bad"}.build(http.MethodGet, "/me", nil)
		}, 401, "", `Bearer realm="api", error="invalid_token", error_description="the access token is invalid, expired or revoked"`},
		{"another scheme with a good cookie is 401", func(c, b string) *http.Request {
			return reqOpts{cookie: c, bearer: "Basic YXBwOng="}.build(http.MethodGet, "/me", nil)
		}, 401, "", `Bearer realm="api"`},
		{"an empty Authorization header with a good cookie is 401", func(c, b string) *http.Request {
			r := reqOpts{cookie: c}.build(http.MethodGet, "/me", nil)
			r.Header["Authorization"] = []string{""}
			return r
		}, 401, "", `Bearer realm="api"`},
		{"neither is 401 with a bearer challenge", func(c, b string) *http.Request {
			return reqOpts{}.build(http.MethodGet, "/me", nil)
		}, 401, "", `Bearer realm="api"`},
		{"a cross-site POST with the cookie is 403", func(c, b string) *http.Request {
			return reqOpts{cookie: c, site: "cross-site"}.build(http.MethodPost, "/me", url.Values{})
		}, 403, "", `Bearer realm="api"`},
		{"a cross-site DELETE with the cookie is 403", func(c, b string) *http.Request {
			return reqOpts{cookie: c, origin: "https://evil.example"}.build(http.MethodDelete, "/me", nil)
		}, 403, "", `Bearer realm="api"`},
		{"a same-origin POST with the cookie passes", func(c, b string) *http.Request {
			return reqOpts{cookie: c, site: "same-origin"}.build(http.MethodPost, "/me", url.Values{})
		}, 200, "cookie", ""},
		{"a cross-site POST with a bearer token passes", func(c, b string) *http.Request {
			return reqOpts{bearer: "Bearer " + b, site: "cross-site", origin: "https://other.example"}.build(http.MethodPost, "/me", url.Values{})
		}, 200, "bearer", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSessEnv(t, sessOpts{})
			cookie := e.login(t, reqOpts{})
			bearer := e.token(t, "grant_type=password&username=johndoe&password=foobar42&scope=write")
			w := serve(policy.CookieOrBearer(e.s)(echo), tc.req(cookie, bearer))
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.status == 200 {
				id := identityOf(t, w)
				assert.Equal(t, tc.method, id.Method)
				assert.Equal(t, "user-johndoe", id.UserID)
				if tc.method == "bearer" {
					assert.Equal(t, "app", id.ClientID)
					assert.Equal(t, []string{"write"}, id.Scopes)
				} else {
					assert.Empty(t, id.ClientID)
					assert.Equal(t, []string{"read"}, id.Scopes)
				}
				return
			}
			assert.Equal(t, tc.challenge, w.Header().Get("WWW-Authenticate"))
		})
	}
}

func TestRevokeUserEndsCookiesAndBearerTokensAlike(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	cookie := e.login(t, reqOpts{})
	bearer := e.token(t, "grant_type=password&username=johndoe&password=foobar42")
	h := policy.CookieOrBearer(e.s)(echo)
	n, err := e.store.RevokeUser(context.Background(), "user-johndoe")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, 401, serve(h, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil)).Code)
	assert.Equal(t, 401, serve(h, reqOpts{bearer: "Bearer " + bearer}.build(http.MethodGet, "/me", nil)).Code)
}

func TestRequireRules(t *testing.T) {
	tests := []struct {
		name     string
		scopes   []string // the session's scopes
		required []string
		noPolicy bool
		status   int
		header   string
	}{
		{"all required scopes present", []string{"read", "write"}, []string{"read", "write"}, false, 200, ""},
		{"a missing scope is 403 insufficient_scope", []string{"read"}, []string{"read", "write"}, false, 403,
			`Bearer realm="api", error="insufficient_scope", scope="read write"`},
		{"a session without scopes is 403", []string{}, []string{"read"}, false, 403,
			`Bearer realm="api", error="insufficient_scope", scope="read"`},
		{"without a policy in front it is 401, with an auth-param (RFC 6750 §3)", []string{"read"}, []string{"read"}, true, 401, `Bearer scope="read"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{Scopes: tc.scopes}})
			cookie := e.login(t, reqOpts{})
			h := policy.Chain(policy.Cookie(e.s), policy.Require(tc.required...))(echo)
			if tc.noPolicy {
				h = policy.Require(tc.required...)(echo)
			}
			w := serve(h, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
			require.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, tc.header, w.Header().Get("WWW-Authenticate"))
			switch tc.status {
			case 403:
				assert.Equal(t, "insufficient_scope", errorCode(t, w))
			case 401:
				assert.Equal(t, "unauthorized", errorCode(t, w), "no credentials were seen: not invalid_token")
			}
		})
	}
}

func TestRequireBearerScopes(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	read := e.token(t, "grant_type=password&username=johndoe&password=foobar42&scope=read")
	h := policy.Chain(policy.Bearer(e.p), policy.Require("write"))(echo)
	w := serve(h, reqOpts{bearer: "Bearer " + read}.build(http.MethodGet, "/me", nil))
	assert.Equal(t, 403, w.Code)
	assert.Equal(t, `Bearer realm="api", error="insufficient_scope", scope="write"`, w.Header().Get("WWW-Authenticate"))
}

// Require copies its scopes: a caller reusing the slice it passed with
// scopes... does not change what a route requires.
func TestRequireKeepsItsOwnScopes(t *testing.T) {
	e := newSessEnv(t, sessOpts{}) // sessions with scope read
	cookie := e.login(t, reqOpts{})
	scopes := []string{"write"}
	h := policy.Chain(policy.Cookie(e.s), policy.Require(scopes...))(echo)
	scopes[0] = "read"
	w := serve(h, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
	assert.Equal(t, http.StatusForbidden, w.Code, w.Body.String())
	assert.Equal(t, `Bearer realm="api", error="insufficient_scope", scope="write"`, w.Header().Get("WWW-Authenticate"))
}

func TestRequirePanicsOnBadScopes(t *testing.T) {
	assert.Panics(t, func() { policy.Require() })
	assert.Panics(t, func() { policy.Require(`a"b`) })
	assert.Panics(t, func() { policy.Require("a b") })
}

func TestChainOrder(t *testing.T) {
	var order []string
	mw := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name)
				next.ServeHTTP(w, r)
			})
		}
	}
	policy.Chain(mw("a"), mw("b"), mw("c"))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		order = append(order, "h")
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, []string{"a", "b", "c", "h"}, order)
}

// Chain copies its middleware list: a caller reusing the slice it passed
// with mws... does not change the handlers built from the chain after.
func TestChainKeepsItsOwnList(t *testing.T) {
	var order []string
	mw := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name)
				next.ServeHTTP(w, r)
			})
		}
	}
	mws := []func(http.Handler) http.Handler{mw("policy"), mw("require")}
	chain := policy.Chain(mws...)
	mws[0] = mw("other")
	chain(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		order = append(order, "h")
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, []string{"policy", "require", "h"}, order)
}

func TestNewSessionsConfig(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	tests := []struct {
		name string
		cfg  policy.SessionConfig
		err  string
	}{
		{"a name with a space", policy.SessionConfig{Name: "my session"}, "invalid cookie Name"},
		{"a name with a semicolon", policy.SessionConfig{Name: "a;b"}, "invalid cookie Name"},
		{"a name with an equals sign", policy.SessionConfig{Name: "a=b"}, "invalid cookie Name"},
		{"a name with a DEL", policy.SessionConfig{Name: "a\x7fb"}, "invalid cookie Name"},
		{"a name with its own __Host- prefix", policy.SessionConfig{Name: "__Host-x"}, "invalid cookie Name"},
		{"a name with a __Secure- prefix", policy.SessionConfig{Name: "__Secure-x"}, "invalid cookie Name"},
		{"a sub-second TTL", policy.SessionConfig{TTL: time.Millisecond}, "sub-second TTL"},
		{"a negative TTL", policy.SessionConfig{TTL: -time.Hour}, "negative or sub-second TTL"},
		{"a negative MaxLifetime, even without Sliding", policy.SessionConfig{MaxLifetime: -time.Hour}, "negative MaxLifetime"},
		{"a MaxLifetime of -1ns", policy.SessionConfig{MaxLifetime: -time.Nanosecond}, "negative MaxLifetime"},
		{"a cap below the TTL", policy.SessionConfig{TTL: 2 * time.Hour, MaxLifetime: time.Hour, Sliding: true}, "MaxLifetime (1h0m0s) is shorter than TTL (2h0m0s)"},
		// A TTL over the cap's default: the message says where a cap
		// nobody set comes from.
		{"a TTL over the default cap", policy.SessionConfig{TTL: 45 * 24 * time.Hour, Sliding: true}, "MaxLifetime (720h0m0s, its default) is shorter than TTL (1080h0m0s)"},
		{"an invalid scope", policy.SessionConfig{Scopes: []string{"a b"}}, "not a valid scope token"},
		{"an invalid trusted origin", policy.SessionConfig{TrustedOrigins: []string{"not an origin"}}, "invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.NewSessions(e.p, tc.cfg)
			assert.ErrorContains(t, err, tc.err)
		})
	}
	// MaxLifetime caps a sliding session only; one equal to the TTL is
	// no shorter than it.
	for _, cfg := range []policy.SessionConfig{
		{TTL: 60 * 24 * time.Hour},
		{TTL: 2 * time.Hour, MaxLifetime: time.Hour},
		{TTL: time.Hour, MaxLifetime: time.Hour, Sliding: true},
	} {
		_, err := policy.NewSessions(e.p, cfg)
		assert.NoError(t, err, "%+v", cfg)
	}
	_, err := policy.NewSessions(nil, policy.SessionConfig{})
	assert.Error(t, err)
	assert.Panics(t, func() { policy.Cookie(nil) })
	assert.Panics(t, func() { policy.CookieOrBearer(nil) })
}

func TestTrustedOriginMayPost(t *testing.T) {
	e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{TrustedOrigins: []string{"https://admin.example"}}})
	cookie := e.login(t, reqOpts{})
	h := policy.Cookie(e.s)(echo)
	w := serve(h, reqOpts{cookie: cookie, site: "same-site", origin: "https://admin.example"}.build(http.MethodPost, "/me", url.Values{}))
	assert.Equal(t, 200, w.Code, w.Body.String())
	w = serve(h, reqOpts{cookie: cookie, site: "same-site", origin: "https://other.example"}.build(http.MethodPost, "/me", url.Values{}))
	assert.Equal(t, 403, w.Code)
}

// The session token never appears in a response body or an error.
func TestSessionTokenNotLeaked(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	cookie := e.login(t, reqOpts{})
	value := cookie[strings.IndexByte(cookie, '=')+1:]
	e.store.down.Store(true)
	for _, h := range []http.Handler{policy.Cookie(e.s)(echo), e.s.LogoutHandler()} {
		w := serve(h, reqOpts{cookie: cookie}.build(http.MethodPost, "/x", url.Values{}))
		assert.NotContains(t, w.Body.String(), value)
		assert.False(t, regexp.MustCompile(`ost_`).MatchString(w.Body.String()))
	}
}

// Without Sec-Fetch-Site, CrossOriginProtection compares Origin with Host
// and not the scheme: on a request that came over HTTPS, an Origin of
// http:// on the same host is a plain-HTTP page (which a network attacker
// can serve), another origin, refused for unsafe cookie requests, login
// and logout, unless trusted. Over plain HTTP, allowed, it is the site's.
func TestPlainHTTPOriginOfTheSameHost(t *testing.T) {
	const plainOrigin = "http://app.example"
	for _, tc := range []struct {
		name   string
		o      sessOpts
		req    reqOpts
		status int
	}{
		{"on HTTPS", sessOpts{}, reqOpts{origin: plainOrigin}, 403},
		{"on HTTPS, behind a Sec-Fetch-Site browsers send", sessOpts{}, reqOpts{origin: plainOrigin, site: "same-origin"}, 200},
		{"on HTTPS, trusted", sessOpts{cfg: policy.SessionConfig{TrustedOrigins: []string{plainOrigin}}}, reqOpts{origin: plainOrigin}, 200},
		{"on HTTPS, the https origin", sessOpts{}, reqOpts{origin: "https://app.example"}, 200},
		{"on plain HTTP, allowed", sessOpts{insecure: true}, reqOpts{origin: plainOrigin, plain: true}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSessEnv(t, tc.o)
			login := tc.req
			login.origin, login.site = "", ""
			cookie := e.login(t, login)
			r := tc.req
			r.cookie = cookie
			for _, h := range []http.Handler{policy.Cookie(e.s)(echo), policy.CookieOrBearer(e.s)(echo)} {
				// Every unsafe method, not only POST: a DELETE from the
				// plain-HTTP page is as forged as its POST.
				for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
					w := serve(h, r.build(m, "/me", url.Values{}))
					assert.Equal(t, tc.status, w.Code, "cookie %s: %s", m, w.Body)
					if tc.status == http.StatusForbidden {
						assert.Equal(t, "cross_origin_request", errorCode(t, w), m)
					}
				}
				for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodOptions} {
					w := serve(h, r.build(m, "/me", nil))
					assert.Equal(t, 200, w.Code, "a %s is safe", m)
				}
			}
			w := serve(e.s.LoginHandler(), tc.req.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
			assert.Equal(t, tc.status, w.Code, "login: %s", w.Body)
			w = serve(e.s.LogoutHandler(), r.build(http.MethodPost, "/logout", url.Values{}))
			if tc.status == 200 {
				assert.Contains(t, []int{200, 204, 303}, w.Code, "logout: %s", w.Body)
			} else {
				assert.Equal(t, tc.status, w.Code, "logout: %s", w.Body)
			}
		})
	}
}

// A trusted proxy that reaches the app over TLS (re-encrypting, as a
// load balancer with HTTPS targets does) but says X-Forwarded-Proto: http
// took the client's request in the clear: a bearer token or a password
// that came with it has travelled unencrypted, and is refused as over
// plain HTTP. The TLS hop between the proxy and the app does not count.
func TestTrustedProxyPlainHTTPBeatsTheTLSHop(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	bearer := e.token(t, "grant_type=password&username=johndoe&password=foobar42&scope=read")
	viaProxy := func(method, path, proto string, body url.Values) *http.Request {
		r := reqOpts{remoteAddr: "10.0.0.2:5000", xff: "192.0.2.1", bearer: "Bearer " + bearer}.build(method, path, body)
		require.NotNil(t, r.TLS, "the hop from the proxy is TLS")
		r.Header.Set("X-Forwarded-Proto", proto)
		return r
	}
	for _, h := range []http.Handler{policy.Bearer(e.p)(echo), policy.CookieOrBearer(e.s)(echo)} {
		w := serve(h, viaProxy(http.MethodGet, "/me", "http", nil))
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		assert.Equal(t, "invalid_request", errorCode(t, w))
		assert.Equal(t, 200, serve(h, viaProxy(http.MethodGet, "/me", "https", nil)).Code, "the proxy took it over HTTPS")
	}
	w := serve(e.s.LoginHandler(), viaProxy(http.MethodPost, "/login", "http", loginForm("johndoe", "foobar42")))
	assert.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
	assert.Empty(t, w.Header().Values("Set-Cookie"))
	w = serve(e.s.LoginHandler(), viaProxy(http.MethodPost, "/login", "https", loginForm("johndoe", "foobar42")))
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())

	// From anyone else the header is not believed, either way.
	r := reqOpts{bearer: "Bearer " + bearer}.build(http.MethodGet, "/me", nil)
	r.Header.Set("X-Forwarded-Proto", "http")
	assert.Equal(t, 200, serve(policy.Bearer(e.p)(echo), r).Code, "an untrusted peer's header changes nothing")
}

// A session cookie is a credential like a bearer token: unless the
// provider allows plain HTTP, a request that carries one over plain HTTP
// (a client that ignores Secure, a proxy that is not trusted) is refused
// as Bearer refuses it, 400 invalid_request, before the session is used
// or slid (which would send the token back in the clear).
func TestCookieRequiresHTTPS(t *testing.T) {
	e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{Sliding: true, TTL: 10 * time.Hour}})
	cookie := e.login(t, reqOpts{})
	e.now = e.now.Add(5 * time.Hour) // due for renewal
	// The challenge: Cookie's own; under CookieOrBearer the one Bearer
	// answers a token sent in the clear with (RFC 6750 §3.1).
	challenges := map[string]string{
		"Cookie":         `Cookie realm="api"`,
		"CookieOrBearer": `Bearer realm="api", error="invalid_request", error_description="HTTPS is required"`,
	}
	for name, h := range map[string]http.Handler{"Cookie": policy.Cookie(e.s)(echo), "CookieOrBearer": policy.CookieOrBearer(e.s)(echo)} {
		w := serve(h, reqOpts{cookie: cookie, plain: true}.build(http.MethodGet, "/me", nil))
		require.Equal(t, http.StatusBadRequest, w.Code, "%s: %s", name, w.Body)
		assert.Equal(t, "invalid_request", errorCode(t, w), name)
		assert.Contains(t, w.Body.String(), "HTTPS is required", name)
		assert.Equal(t, challenges[name], w.Header().Get("WWW-Authenticate"), name)
		assert.Empty(t, w.Header().Values("Set-Cookie"), "%s: nothing renewed in the clear", name)
		assert.Equal(t, 401, serve(h, reqOpts{plain: true}.build(http.MethodGet, "/me", nil)).Code, "%s: no credentials is still 401", name)
		assert.Equal(t, 200, serve(h, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil)).Code, "%s: over HTTPS the session lives on", name)
	}
}

// A session carries the sessions' Scopes as they are configured now: a
// scope taken out of SessionConfig.Scopes (a redeploy that makes browser
// sessions read-only) no longer passes Require for the sessions started
// before, which would otherwise keep it until they expire (up to
// MaxLifetime when sliding); nor does a scope added since reach them.
func TestSessionScopesFollowTheConfiguration(t *testing.T) {
	e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{Scopes: []string{"read", "write"}}})
	cookie := e.login(t, reqOpts{})

	narrowed, err := policy.NewSessions(e.p, policy.SessionConfig{Scopes: []string{"read", "admin"}})
	require.NoError(t, err)
	get := func(scope string) *httptest.ResponseRecorder {
		h := policy.Chain(policy.Cookie(narrowed), policy.Require(scope))(echo)
		return serve(h, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
	}
	id := identityOf(t, get("read"))
	assert.Equal(t, []string{"read"}, id.Scopes, "write was taken out, admin was not there at login")
	for _, scope := range []string{"write", "admin"} {
		w := get(scope)
		assert.Equal(t, http.StatusForbidden, w.Code, scope)
		assert.Equal(t, "insufficient_scope", errorCode(t, w), scope)
	}
	w := serve(policy.CookieOrBearer(narrowed)(echo), reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
	assert.Equal(t, []string{"read"}, identityOf(t, w).Scopes, "CookieOrBearer too")

	// A scope added since reaches only sessions started after.
	widened, err := policy.NewSessions(e.p, policy.SessionConfig{Scopes: []string{"read", "write", "admin"}})
	require.NoError(t, err)
	w = serve(policy.Cookie(widened)(echo), reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
	assert.Equal(t, []string{"read", "write"}, identityOf(t, w).Scopes, "admin was not there at login")
	w = serve(policy.Chain(policy.Cookie(widened), policy.Require("admin"))(echo), reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
	assert.Equal(t, http.StatusForbidden, w.Code, w.Body.String())

	// Under the configuration it was started with, nothing changes.
	w = serve(policy.Cookie(e.s)(echo), reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
	assert.Equal(t, []string{"read", "write"}, identityOf(t, w).Scopes)
}

// A scope taken out from the middle of a session's scopes leaves the
// ones before and after it.
func TestSessionScopeTakenOutOfTheMiddle(t *testing.T) {
	e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{Scopes: []string{"read", "write", "admin"}}})
	cookie := e.login(t, reqOpts{})
	narrowed, err := policy.NewSessions(e.p, policy.SessionConfig{Scopes: []string{"read", "admin"}})
	require.NoError(t, err)
	w := serve(policy.Cookie(narrowed)(echo), reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
	assert.Equal(t, []string{"read", "admin"}, identityOf(t, w).Scopes)
}

// NewSessions copies SessionConfig.Scopes: a caller reusing the slice
// does not change what a session is granted.
func TestSessionsKeepTheirOwnScopes(t *testing.T) {
	scopes := []string{"read"}
	e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{Scopes: scopes}})
	scopes[0] = "admin"
	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"user_id":"user-johndoe","scope":"read","expires_in":86400}`, w.Body.String())
	cookie := w.Result().Cookies()[0]
	w = serve(policy.Cookie(e.s)(echo), reqOpts{cookie: cookie.Name + "=" + cookie.Value}.build(http.MethodGet, "/me", nil))
	assert.Equal(t, []string{"read"}, identityOf(t, w).Scopes)
}

// logout posts a same-origin logout carrying cookie.
func (e *sessEnv) logout(cookie string) *httptest.ResponseRecorder {
	return serve(e.s.LogoutHandler(), reqOpts{cookie: cookie, site: "same-origin"}.build(http.MethodPost, "/logout", nil))
}

// me gets /me through the Cookie policy with session as the session cookie.
func (e *sessEnv) me(session string) *httptest.ResponseRecorder {
	return serve(policy.Cookie(e.s)(echo), reqOpts{cookie: "__Host-session=" + session}.build(http.MethodGet, "/me", nil))
}

// assertSessions checks that /me answers want for the planted session and
// for the own one; msg names the session with %s.
func (e *sessEnv) assertSessions(t *testing.T, want int, msg, planted, own string) {
	t.Helper()
	for name, v := range map[string]string{"planted": planted, "own": own} {
		assert.Equal(t, want, e.me(v).Code, msg, name)
	}
}

// sessionCookies is a Cookie header with planted different made-up
// session cookies followed by own.
func sessionCookies(own string, planted int) string {
	var b strings.Builder
	for i := range planted {
		fmt.Fprintf(&b, "__Host-session=ost_planted%d; ", i)
	}
	b.WriteString("__Host-session=" + own)
	return b.String()
}

// loginAs logs user in and returns the value of the session cookie.
func (e *sessEnv) loginAs(t testing.TB, user string) string {
	t.Helper()
	w := serve(e.s.LoginHandler(), reqOpts{}.build(http.MethodPost, "/login", loginForm(user, "foobar42")))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	cookies := w.Result().Cookies()
	require.Len(t, cookies, 1)
	return cookies[0].Value
}

// A request can carry the session cookie twice: a cookie of the same name
// planted for a longer Path or a parent Domain (cookie tossing from a
// sibling subdomain, which the name's __Host- prefix stops only where
// browsers enforce it, and which nothing stops under AllowInsecureHTTP's
// unprefixed name), sent before the browser's own. Logging out ends every
// session the request carries, not just the first: otherwise the user's
// own stays alive server-side, its cookie cleared but its value usable.
// Logging in ends them all too.
func TestLogoutAndLoginEndEverySessionCookie(t *testing.T) {
	for _, h := range []string{"logout", "login"} {
		t.Run(h, func(t *testing.T) {
			e := newSessEnv(t, sessOpts{})
			planted := e.loginAs(t, "mallory")
			own := e.loginAs(t, "johndoe")
			cookie := "__Host-session=" + planted + "; __Host-session=" + own
			var w *httptest.ResponseRecorder
			if h == "logout" {
				w = e.logout(cookie)
				require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
			} else {
				w = serve(e.s.LoginHandler(), reqOpts{cookie: cookie}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			}
			e.assertSessions(t, http.StatusUnauthorized, "the %s session was ended", planted, own)
		})
	}
}

// A logout with more than 8 different session cookies (a cookie bomb:
// each would cost a store lookup) is 400 and ends none of them.
func TestLogoutRefusesTooManySessionCookies(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	own := e.loginAs(t, "johndoe")
	w := e.logout(sessionCookies(own, 8))
	require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
	assert.Equal(t, "invalid_request", errorCode(t, w))
	assert.Empty(t, w.Header().Values("Set-Cookie"))
	w = e.me(own)
	assert.Equal(t, http.StatusOK, w.Code, "nothing was ended")
}

// Eight different session cookies are within the limit: logout ends them
// all, the browser's own included.
func TestLogoutEndsEightSessionCookies(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	own := e.loginAs(t, "johndoe")
	w := e.logout(sessionCookies(own, 7))
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	w = e.me(own)
	assert.Equal(t, http.StatusUnauthorized, w.Code, "the session was ended")
}

// A login ends the first 8 different session cookies the request
// carries, and no more (each costs a store lookup): the 8th is ended, a
// 9th lives on until it expires. The login itself succeeds.
func TestLoginEndsAtMostEightSessionCookies(t *testing.T) {
	for planted, want := range map[int]int{7: http.StatusUnauthorized, 8: http.StatusOK} {
		e := newSessEnv(t, sessOpts{})
		own := e.loginAs(t, "johndoe")
		w := serve(e.s.LoginHandler(), reqOpts{cookie: sessionCookies(own, planted)}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, want, e.me(own).Code, "the own session after %d planted ones", planted)
	}
}

// The limit counts different values: one session cookie sent nine times
// is one session, and is ended.
func TestLogoutCountsEachSessionCookieValueOnce(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	own := e.loginAs(t, "johndoe")
	cookie := strings.TrimSuffix(strings.Repeat("__Host-session="+own+"; ", 9), "; ")
	w := e.logout(cookie)
	require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
	w = e.me(own)
	assert.Equal(t, http.StatusUnauthorized, w.Code, "the session was ended")
}

// With two different session cookies the policies cannot tell which is
// the browser's own and which was planted: the first, which the browser
// sends first because it has the longer Path, is the attacker's choice.
// Such a request is refused, 401 invalid_token, rather than served as the
// planted session's user (the victim's writes going to the attacker's
// account); the cookie is not cleared, since that would drop the user's
// own one and leave the planted one. SignedInUser sees nobody.
func TestTwoSessionCookiesAreRefused(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	planted := e.loginAs(t, "mallory")
	own := e.loginAs(t, "johndoe")
	cookie := "__Host-session=" + planted + "; __Host-session=" + own
	for name, h := range map[string]http.Handler{"Cookie": policy.Cookie(e.s)(echo), "CookieOrBearer": policy.CookieOrBearer(e.s)(echo)} {
		w := serve(h, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
		require.Equal(t, http.StatusUnauthorized, w.Code, "%s: %s", name, w.Body)
		assert.Equal(t, "invalid_token", errorCode(t, w), name)
		assert.Empty(t, w.Header().Values("Set-Cookie"), name)
		// A cross-site POST with them is told the same: the two cookies
		// are the request's first fault.
		w = serve(h, reqOpts{cookie: cookie, site: "cross-site"}.build(http.MethodPost, "/me", url.Values{}))
		require.Equal(t, http.StatusUnauthorized, w.Code, "%s: %s", name, w.Body)
		assert.Equal(t, "invalid_token", errorCode(t, w), name)
		// The same value twice is no ambiguity.
		w = serve(h, reqOpts{cookie: "__Host-session=" + own + "; __Host-session=" + own}.build(http.MethodGet, "/me", nil))
		assert.Equal(t, "user-johndoe", identityOf(t, w).UserID, name)
	}
	user, err := e.s.SignedInUser(reqOpts{cookie: cookie}.build(http.MethodGet, "/oauth2/authorize", nil))
	require.NoError(t, err)
	assert.Empty(t, user)
	e.assertSessions(t, http.StatusOK, "the %s session lives on", planted, own)
}

// An empty session cookie next to the browser's own, before or after it,
// is no second session: it names none, and the own one is used.
func TestAnEmptySessionCookieIsNoSecondSession(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	own := e.loginAs(t, "johndoe")
	for _, cookie := range []string{
		"__Host-session=" + own + "; __Host-session=",
		"__Host-session=; __Host-session=" + own,
	} {
		w := serve(policy.Cookie(e.s)(echo), reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
		assert.Equal(t, "user-johndoe", identityOf(t, w).UserID, cookie)
	}
}

// Require's insufficient_scope challenge names the realm of the provider
// whose policy authenticated the request, as the policy's own challenges
// do; an identity put there by WithIdentity (a handler's test) has none.
func TestRequireChallengeCarriesThePolicysRealm(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	cookie := e.login(t, reqOpts{})
	read := e.token(t, "grant_type=password&username=johndoe&password=foobar42&scope=read")
	for name, tc := range map[string]struct {
		h   http.Handler
		req reqOpts
	}{
		"Bearer":                   {policy.Chain(policy.Bearer(e.p), policy.Require("write"))(echo), reqOpts{bearer: "Bearer " + read}},
		"Cookie":                   {policy.Chain(policy.Cookie(e.s), policy.Require("write"))(echo), reqOpts{cookie: cookie}},
		"CookieOrBearer, a token":  {policy.Chain(policy.CookieOrBearer(e.s), policy.Require("write"))(echo), reqOpts{bearer: "Bearer " + read}},
		"CookieOrBearer, a cookie": {policy.Chain(policy.CookieOrBearer(e.s), policy.Require("write"))(echo), reqOpts{cookie: cookie}},
	} {
		w := serve(tc.h, tc.req.build(http.MethodGet, "/me", nil))
		assert.Equal(t, http.StatusForbidden, w.Code, name)
		assert.Equal(t, `Bearer realm="api", error="insufficient_scope", scope="write"`, w.Header().Get("WWW-Authenticate"), name)
	}

	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(policy.WithIdentity(r.Context(), policy.Identity{UserID: "u", Scopes: []string{"read"}}))
		policy.Require("write")(echo).ServeHTTP(w, r)
	})
	w := serve(bare, reqOpts{}.build(http.MethodGet, "/me", nil))
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, `Bearer error="insufficient_scope", scope="write"`, w.Header().Get("WWW-Authenticate"))
}

// One Require behind identities of different realms answers each with
// its own (it keeps the answer of the last realm it refused).
func TestRequireSharedAcrossRealms(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	read := e.token(t, "grant_type=password&username=johndoe&password=foobar42&scope=read")
	req := policy.Require("write")
	viaBearer := policy.Chain(policy.Bearer(e.p), req)(echo)
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(policy.WithIdentity(r.Context(), policy.Identity{UserID: "u"}))
		req(echo).ServeHTTP(w, r)
	})
	for range 2 {
		w := serve(viaBearer, reqOpts{bearer: "Bearer " + read}.build(http.MethodGet, "/me", nil))
		assert.Equal(t, `Bearer realm="api", error="insufficient_scope", scope="write"`, w.Header().Get("WWW-Authenticate"))
		w = serve(bare, reqOpts{}.build(http.MethodGet, "/me", nil))
		assert.Equal(t, `Bearer error="insufficient_scope", scope="write"`, w.Header().Get("WWW-Authenticate"))
	}
}

// An identity a middleware behind a policy puts in the context with
// WithIdentity (narrowing the scopes, say) is still of a request that
// policy authenticated: Require's challenge keeps the policy's realm, as
// the route's 401s do.
func TestRequireBehindWithIdentityKeepsThePolicysRealm(t *testing.T) {
	e := newSessEnv(t, sessOpts{})
	tok := e.token(t, "grant_type=password&username=johndoe&password=foobar42&scope=write")
	narrow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, _ := policy.IdentityFrom(r.Context())
			id.Scopes = []string{"read"}
			next.ServeHTTP(w, r.WithContext(policy.WithIdentity(r.Context(), id)))
		})
	}
	h := policy.Chain(policy.Bearer(e.p), narrow, policy.Require("write"))(echo)
	w := serve(h, reqOpts{bearer: "Bearer " + tok}.build(http.MethodGet, "/me", nil))
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, `Bearer realm="api", error="insufficient_scope", scope="write"`, w.Header().Get("WWW-Authenticate"))
}

// A session lasts as long as the sessions' lifetime as configured now
// allows: MaxLifetime after login when sliding, TTL after login when
// not. A redeploy that shortens it (an operator cutting MaxLifetime from
// 30 days to 8 hours) ends the sessions already older than that at once,
// under Cookie, CookieOrBearer and SignedInUser alike, as it does for
// sessions started after; they used to live on until the expiry their
// last renewal gave them (up to the old TTL past the new cap). Under the
// configuration a session was started with, nothing changes.
func TestSessionLifetimeFollowsTheConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name        string
		was, now    policy.SessionConfig
		age         time.Duration // of the session when the new configuration is in force
		renewEvery  time.Duration // requests under the old configuration until age
		stillServed bool
	}{
		{"a shorter MaxLifetime ends older sliding sessions",
			policy.SessionConfig{Sliding: true, TTL: 10 * time.Hour, MaxLifetime: 30 * 24 * time.Hour},
			policy.SessionConfig{Sliding: true, TTL: 2 * time.Hour, MaxLifetime: 8 * time.Hour},
			9 * time.Hour, 2 * time.Hour, false},
		{"a shorter MaxLifetime spares younger sliding sessions",
			policy.SessionConfig{Sliding: true, TTL: 10 * time.Hour, MaxLifetime: 30 * 24 * time.Hour},
			policy.SessionConfig{Sliding: true, TTL: 2 * time.Hour, MaxLifetime: 8 * time.Hour},
			7 * time.Hour, 2 * time.Hour, true},
		{"a shorter TTL ends older fixed sessions",
			policy.SessionConfig{TTL: 24 * time.Hour},
			policy.SessionConfig{TTL: time.Hour},
			2 * time.Hour, 0, false},
		{"a shorter TTL ends fixed sessions at exactly that age, as an expiry does",
			policy.SessionConfig{TTL: 24 * time.Hour},
			policy.SessionConfig{TTL: time.Hour},
			time.Hour, 0, false},
		{"turning Sliding off ends sessions older than TTL",
			policy.SessionConfig{Sliding: true, TTL: 10 * time.Hour},
			policy.SessionConfig{TTL: 10 * time.Hour},
			11 * time.Hour, 2 * time.Hour, false},
		{"an unchanged configuration serves the session to its end",
			policy.SessionConfig{Sliding: true, TTL: 10 * time.Hour, MaxLifetime: 25 * time.Hour},
			policy.SessionConfig{Sliding: true, TTL: 10 * time.Hour, MaxLifetime: 25 * time.Hour},
			25*time.Hour - time.Second, 2 * time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSessEnv(t, sessOpts{cfg: tc.was})
			login := e.now
			cookie := e.login(t, reqOpts{})
			old := policy.Cookie(e.s)(echo)
			for tc.renewEvery > 0 && e.now.Add(tc.renewEvery).Sub(login) < tc.age {
				e.now = e.now.Add(tc.renewEvery)
				require.Equal(t, 200, serve(old, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil)).Code, "at %v", e.now.Sub(login))
			}
			e.now = login.Add(tc.age)
			cfg := tc.now
			cfg.Scopes = []string{"read"}
			s, err := policy.NewSessions(e.p, cfg)
			require.NoError(t, err)
			for name, h := range map[string]http.Handler{"Cookie": policy.Cookie(s)(echo), "CookieOrBearer": policy.CookieOrBearer(s)(echo)} {
				w := serve(h, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
				if tc.stillServed {
					assert.Equal(t, http.StatusOK, w.Code, "%s: %s", name, w.Body)
					continue
				}
				require.Equal(t, http.StatusUnauthorized, w.Code, "%s: %s", name, w.Body)
				assert.Equal(t, "invalid_token", errorCode(t, w), name)
				assert.Equal(t, "__Host-session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax", w.Header().Get("Set-Cookie"), name)
			}
			user, err := s.SignedInUser(reqOpts{cookie: cookie}.build(http.MethodGet, "/oauth2/authorize", nil))
			require.NoError(t, err)
			if tc.stillServed {
				assert.Equal(t, "user-johndoe", user)
			} else {
				assert.Empty(t, user, "SignedInUser")
			}
		})
	}
}

// An empty session cookie is no session: it is not counted among the 8
// different ones login and logout end, so 8 sessions and an empty cookie
// are all ended, by a logout (not refused as too many) and by a login.
func TestEmptySessionCookieIsNotCountedAtLoginAndLogout(t *testing.T) {
	t.Run("logout", func(t *testing.T) {
		e := newSessEnv(t, sessOpts{})
		own := e.loginAs(t, "johndoe")
		w := e.logout("__Host-session=; " + sessionCookies(own, 7))
		require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
		assert.Equal(t, http.StatusUnauthorized, e.me(own).Code, "the session was ended")
	})
	t.Run("login", func(t *testing.T) {
		e := newSessEnv(t, sessOpts{})
		own := e.loginAs(t, "johndoe")
		w := serve(e.s.LoginHandler(), reqOpts{cookie: "__Host-session=; " + sessionCookies(own, 7)}.build(http.MethodPost, "/login", loginForm("johndoe", "foobar42")))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, http.StatusUnauthorized, e.me(own).Code, "the 8th different session was ended")
	})
}

// Without Sliding a session is never renewed, however long it is used:
// no store write and no new cookie, and it ends TTL after login.
func TestSessionWithoutSlidingIsNotRenewed(t *testing.T) {
	e := newSessEnv(t, sessOpts{cfg: policy.SessionConfig{TTL: 10 * time.Hour}})
	cookie := e.login(t, reqOpts{})
	me := policy.Cookie(e.s)(echo)
	get := func() *httptest.ResponseRecorder {
		return serve(me, reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil))
	}
	e.now = e.now.Add(8*time.Hour + 30*time.Minute) // past TTL/10: a sliding one would be renewed
	w := get()
	require.Equal(t, http.StatusOK, w.Code)
	assert.Empty(t, w.Header().Values("Set-Cookie"))
	assert.Empty(t, w.Header().Values("Cache-Control"))
	e.now = e.now.Add(90 * time.Minute)
	assert.Equal(t, http.StatusUnauthorized, get().Code, "ended TTL after login")
}
