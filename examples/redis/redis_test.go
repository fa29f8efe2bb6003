package main

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
)

// instances starts n instances of the app on one Redis (a fresh key
// prefix) with one binding key, as a load balancer would see them.
func instances(t *testing.T, n int) []*httptest.Server {
	t.Helper()
	raw := storeurltest.Redis(t)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	q := u.Query()
	prefix := q.Get("prefix")
	q.Del("prefix")
	u.RawQuery = q.Encode()
	opt, err := goredis.ParseURL(u.String())
	require.NoError(t, err)

	key := make([]byte, 32)
	_, err = rand.Read(key)
	require.NoError(t, err)
	var users authcheck.Static
	require.NoError(t, users.Add("johndoe", "foobar42", "1"))

	var out []*httptest.Server
	for range n {
		rdb := goredis.NewClient(opt) // each instance has its own connections
		t.Cleanup(func() { _ = rdb.Close() })
		h, err := newApp(t.Context(), rdb, options{prefix: prefix, bindingKey: key, insecure: true, users: &users})
		require.NoError(t, err)
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		out = append(out, srv)
	}
	return out
}

type reply struct {
	status  int
	header  http.Header
	body    map[string]any
	cookies []*http.Cookie
}

// do sends a request with the given User-Agent and extra headers.
func do(t *testing.T, method, target, ua string, form url.Values, header map[string]string) reply {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", ua)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header, cookies: resp.Cookies()}
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, &r.body), "%s", b)
	}
	return r
}

func passwordGrant(t *testing.T, srv *httptest.Server, ua, password string) reply {
	t.Helper()
	return do(t, http.MethodPost, srv.URL+"/oauth2/token", ua, url.Values{
		"grant_type": {"password"}, "client_id": {webClientID},
		"username": {"johndoe"}, "password": {password},
	}, nil)
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

const firefox, curl = "Mozilla/5.0 Firefox/140.0", "curl/8.0"

// TestBearerAcrossInstances: a token issued by one instance works on
// another, since both read Redis.
func TestBearerAcrossInstances(t *testing.T) {
	s := instances(t, 2)
	tr := passwordGrant(t, s[0], firefox, "foobar42")
	require.Equal(t, http.StatusOK, tr.status, tr.body)
	tok := tr.body["access_token"].(string)

	me := do(t, http.MethodGet, s[1].URL+"/api/me", firefox, nil, bearer(tok))
	require.Equal(t, http.StatusOK, me.status, me.body)
	assert.Equal(t, map[string]any{"user_id": "1", "client_id": webClientID, "scope": "read", "auth": "bearer"}, me.body)
}

// TestBindingRevokesStolenToken: a token presented by another User-Agent
// is refused and its grant revoked, so the rightful holder must log in
// again (the Flask seed's binding).
func TestBindingRevokesStolenToken(t *testing.T) {
	s := instances(t, 1)
	tr := passwordGrant(t, s[0], firefox, "foobar42")
	require.Equal(t, http.StatusOK, tr.status, tr.body)
	tok := tr.body["access_token"].(string)

	stolen := do(t, http.MethodGet, s[0].URL+"/api/me", curl, nil, bearer(tok))
	assert.Equal(t, http.StatusUnauthorized, stolen.status)
	assert.Contains(t, stolen.header.Get("WWW-Authenticate"), `error="invalid_token"`)

	again := do(t, http.MethodGet, s[0].URL+"/api/me", firefox, nil, bearer(tok))
	assert.Equal(t, http.StatusUnauthorized, again.status, "the grant was revoked")
	refresh := do(t, http.MethodPost, s[0].URL+"/oauth2/token", firefox, url.Values{
		"grant_type": {"refresh_token"}, "client_id": {webClientID}, "refresh_token": {tr.body["refresh_token"].(string)},
	}, nil)
	assert.Equal(t, http.StatusBadRequest, refresh.status)
	assert.Equal(t, "invalid_grant", refresh.body["error"])
}

// TestCookieLogin: POST /login sets a session cookie that /api/me accepts
// on another instance; a cross-site POST with it is refused; logout ends it.
func TestCookieLogin(t *testing.T) {
	s := instances(t, 2)
	login := do(t, http.MethodPost, s[0].URL+"/login", firefox,
		url.Values{"username": {"johndoe"}, "password": {"foobar42"}}, nil)
	require.Equal(t, http.StatusOK, login.status, login.body)
	require.Len(t, login.cookies, 1)
	c := login.cookies[0]
	assert.True(t, c.HttpOnly)
	cookie := map[string]string{"Cookie": c.Name + "=" + c.Value}

	me := do(t, http.MethodGet, s[1].URL+"/api/me", firefox, nil, cookie)
	require.Equal(t, http.StatusOK, me.status, me.body)
	assert.Equal(t, "cookie", me.body["auth"])
	assert.Equal(t, "1", me.body["user_id"])

	csrf := do(t, http.MethodPost, s[1].URL+"/api/me", firefox, nil,
		map[string]string{"Cookie": cookie["Cookie"], "Sec-Fetch-Site": "cross-site"})
	assert.Equal(t, http.StatusForbidden, csrf.status, "a cross-site POST with the cookie is refused")

	stolen := do(t, http.MethodGet, s[1].URL+"/api/me", curl, nil, cookie)
	assert.Equal(t, http.StatusUnauthorized, stolen.status, "sessions are bound too")

	// The session was ended by the binding mismatch; log in again to test logout.
	login = do(t, http.MethodPost, s[0].URL+"/login", firefox,
		url.Values{"username": {"johndoe"}, "password": {"foobar42"}}, nil)
	require.Equal(t, http.StatusOK, login.status, login.body)
	cookie = map[string]string{"Cookie": login.cookies[0].Name + "=" + login.cookies[0].Value}
	out := do(t, http.MethodPost, s[0].URL+"/logout", firefox, url.Values{}, cookie)
	assert.Equal(t, http.StatusNoContent, out.status)
	me = do(t, http.MethodGet, s[1].URL+"/api/me", firefox, nil, cookie)
	assert.Equal(t, http.StatusUnauthorized, me.status, "logout ended the session server-side")
}

// TestThrottlingIsShared: failed passwords counted by one instance throttle
// the user at every instance (RFC 6749 §4.3.2): after the burst of five,
// even the right password is refused with 429 elsewhere.
func TestThrottlingIsShared(t *testing.T) {
	s := instances(t, 2)
	for i := range 5 {
		r := passwordGrant(t, s[0], firefox, "wrong-password")
		require.Equal(t, http.StatusBadRequest, r.status, "attempt %d: %v", i+1, r.body)
	}
	r := passwordGrant(t, s[1], firefox, "foobar42")
	assert.Equal(t, http.StatusTooManyRequests, r.status, r.body)
	assert.NotEmpty(t, r.header.Get("Retry-After"))
}

// TestPageAndScript: the page loads the JS client, which is served.
func TestPageAndScript(t *testing.T) {
	s := instances(t, 1)
	req, err := http.NewRequest(http.MethodGet, s[0].URL+"/", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(b), `<script src="/js/oauth_client.js" data-client-id="web"`)

	resp, err = http.Get(s[0].URL + "/js/oauth_client.js")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "javascript")
}
