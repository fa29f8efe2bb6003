package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/browsertest"
)

// call sends one request to srv without following redirects and returns
// the response with its body read.
func call(t *testing.T, srv *httptest.Server, method, path string, form url.Values, header map[string]string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, srv.URL+path, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// The page's cookie form without JavaScript: POST /login redirects back to
// /, /api/me answers for the cookie, logout ends the session server-side.
func TestQuickstartCookieSession(t *testing.T) {
	srv := newTestServer(t, options{})

	resp, body := call(t, srv, http.MethodPost, "/login", url.Values{
		"username": {"johndoe"}, "password": {"nope"}, "return_to": {"/"}}, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.JSONEq(t, `{"error":"invalid_grant","error_description":"invalid username or password"}`, body)
	assert.Empty(t, resp.Cookies(), "a failed login sets no cookie")

	resp, _ = call(t, srv, http.MethodPost, "/login", url.Values{
		"username": {"johndoe"}, "password": {"foobar42"}, "return_to": {"/"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/", resp.Header.Get("Location"))
	setCookie := resp.Header.Get("Set-Cookie")
	assert.Regexp(t, `^session=ost_[A-Za-z0-9_-]{71}; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax$`, setCookie,
		"plain HTTP on loopback: no Secure, no __Host- prefix")
	cookie := setCookie[:strings.IndexByte(setCookie, ';')]

	resp, body = call(t, srv, http.MethodGet, "/api/me", nil, map[string]string{"Cookie": cookie})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.JSONEq(t, `{"user_id":"1","client_id":"","scope":"read write","auth":"cookie"}`, body)

	resp, body = call(t, srv, http.MethodPost, "/api/me", url.Values{}, map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "cross-site"})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	resp, body = call(t, srv, http.MethodPost, "/api/me", url.Values{}, map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "same-origin"})
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)

	resp, _ = call(t, srv, http.MethodPost, "/logout", url.Values{"return_to": {"/"}}, map[string]string{"Cookie": cookie})
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax", resp.Header.Get("Set-Cookie"))

	resp, body = call(t, srv, http.MethodGet, "/api/me", nil, map[string]string{"Cookie": cookie})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the old cookie value is refused after logout")
	assert.Contains(t, body, "invalid_token")
}

func TestQuickstartBearerWinsOverCookie(t *testing.T) {
	srv := newTestServer(t, options{})
	resp, _ := call(t, srv, http.MethodPost, "/login", url.Values{"username": {"johndoe"}, "password": {"foobar42"}}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	cookie := resp.Cookies()[0]
	resp, tok := postForm(t, srv, "/oauth2/token", "", "", url.Values{
		"grant_type": {"password"}, "client_id": {"demo-spa"}, "username": {"johndoe"}, "password": {"foobar42"}, "scope": {"read"},
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, tok)
	access := tok["access_token"].(string)

	resp, body := call(t, srv, http.MethodGet, "/api/me", nil, map[string]string{
		"Cookie": cookie.Name + "=" + cookie.Value, "Authorization": "Bearer " + access})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"user_id":"1","client_id":"demo-spa","scope":"read","auth":"bearer"}`, body)

	resp, _ = call(t, srv, http.MethodGet, "/api/me", nil, map[string]string{
		"Cookie": cookie.Name + "=" + cookie.Value, "Authorization": "Bearer oat_forged"})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a bad bearer token is not rescued by a good cookie")
}

// -bind: a token used from another User-Agent is refused and its grant
// revoked; a spoofed X-Forwarded-For changes nothing (no trusted proxy).
func TestQuickstartBindFlag(t *testing.T) {
	srv := newTestServer(t, options{bind: true})
	form := url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Firefox")
	req.SetBasicAuth("demo-client", "demo-secret")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	require.NotEmpty(t, tok.AccessToken)

	me := func(ua, xff string) int {
		h := map[string]string{"Authorization": "Bearer " + tok.AccessToken, "User-Agent": ua}
		if xff != "" {
			h["X-Forwarded-For"] = xff
		}
		resp, _ := call(t, srv, http.MethodGet, "/api/me", nil, h)
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, me("Firefox", ""))
	assert.Equal(t, http.StatusOK, me("Firefox", "203.0.113.7"), "a spoofed X-Forwarded-For changes nothing")
	assert.Equal(t, http.StatusUnauthorized, me("curl/8", ""))
	assert.Equal(t, http.StatusUnauthorized, me("Firefox", ""), "the mismatch revoked the grant")
}

func TestQuickstartPage(t *testing.T) {
	srv := newTestServer(t, options{})
	resp, body := call(t, srv, http.MethodGet, "/", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	csp := resp.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "script-src 'self' 'nonce-")
	nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(csp)
	require.NotNil(t, nonce)
	assert.Contains(t, body, `<script nonce="`+nonce[1]+`">`)
	// method="post": without JavaScript (or with the script blocked) the
	// browser submits the form itself, and a GET would put the password
	// in the URL, kept in history and access logs.
	assert.Contains(t, body, `<form class="oauth" id="bearer-login" data-client-id="demo-spa" method="post" action="/oauth2/token">`)
	for _, tag := range regexp.MustCompile(`<form\b[^>]*>`).FindAllString(body, -1) {
		assert.Contains(t, tag, `method="post"`, "a form without method=\"post\" sends its fields in the URL: %s", tag)
	}
	assert.Contains(t, body, `<form id="cookie-login" method="post" action="/login">`)
	assert.Contains(t, body, `<script src="/js/oauth_client.js"`)

	resp, js := call(t, srv, http.MethodGet, "/js/oauth_client.js", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, js, "oauthResponseHandler")

	resp, _ = call(t, srv, http.MethodPut, "/login", nil, nil)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// driver is a test page that loads the quickstart's page in a same-origin
// iframe and uses it as a person would: it fills and submits its forms and
// clicks its buttons, and writes what the page shows after each step into
// <pre id="result">.
const driver = `<!doctype html>
<html><head><meta charset="utf-8"><title>quickstart browser test</title></head><body>
<iframe id="app" src="/" width="800" height="600"></iframe>
<pre id="result">pending</pre>
<script>
var out = document.getElementById('result');
function log(line) { out.textContent = (out.textContent === 'pending' ? '' : out.textContent + '\n') + line; }
function doc() { return document.getElementById('app').contentDocument; }
function text(id) { var el = doc() && doc().getElementById(id); return el ? el.textContent : ''; }
// waitFor polls until pred() holds, then resolves; gives up after ~5 s.
function waitFor(what, pred) {
  return new Promise(function (resolve, reject) {
    var n = 0;
    (function poll() {
      var ok = false;
      try { ok = pred(); } catch (e) {}
      if (ok) { resolve(); return; }
      if (++n > 100) { reject(new Error('timeout waiting for ' + what + '; me=' + text('me') + '; status=' + text('status'))); return; }
      setTimeout(poll, 50);
    })();
  });
}
function fill(formId, user, pw) {
  var f = doc().getElementById(formId);
  f.elements.username.value = user;
  f.elements.password.value = pw;
  f.requestSubmit();
}
function meIs(prefix) { return function () { return text('me').indexOf(prefix) === 0; }; }
var step = Promise.resolve();
document.getElementById('app').addEventListener('load', function () {
  step = waitFor('first /api/me', meIs('401 '))
  .then(function () {
    log('start ' + text('me'));
    doc().getElementById('me').textContent = '';
    fill('cookie-login', 'johndoe', 'wrong');
    return waitFor('failed cookie login', function () { return text('status').indexOf('cookie login failed') === 0 && text('me') !== ''; });
  }).then(function () {
    log('bad-login ' + text('status'));
    log('bad-login-me ' + text('me'));
    fill('cookie-login', 'johndoe', 'foobar42');
    return waitFor('cookie login', meIs('200 '));
  }).then(function () {
    log('cookie-me ' + text('me'));
    log('cookie-visible ' + JSON.stringify(doc().cookie));
    doc().getElementById('cookie-logout').requestSubmit();
    return waitFor('cookie logout', meIs('401 '));
  }).then(function () {
    log('cookie-logout ' + text('status') + ' / ' + text('me'));
    fill('bearer-login', 'johndoe', 'foobar42');
    return waitFor('JS client login', meIs('200 '));
  }).then(function () {
    log('bearer-me ' + text('me'));
    doc().getElementById('bearer-logout').click();
    return waitFor('JS client logout', meIs('401 '));
  }).then(function () {
    log('bearer-logout ' + text('me'));
    return fetch('/api/me').then(function (res) { log('final ' + res.status); });
  }).then(function () { log('done'); }, function (e) { log('failed ' + e.message); });
});
</script>
</body></html>
`

// TestBrowserQuickstart drives the quickstart's own page (newApp's handler)
// in headless Chromium: a wrong cookie login, a cookie login that shows
// /api/me, a logout after which /api/me is 401, then the same with the JS
// client and a bearer token.
func TestBrowserQuickstart(t *testing.T) {
	bin := browsertest.Chromium(t)
	a, err := newApp(context.Background(), options{store: "memory", addr: "127.0.0.1:0", loopback: true,
		accessTTL: time.Hour, refreshTTL: 720 * time.Hour})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__driver", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, driver)
	})
	mux.Handle("/", a.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	// The driver waits up to ~5 s at each of its six steps: more than the
	// default budgets.
	result := browsertest.Result(t, bin, srv.URL+"/__driver", browsertest.Options{Timeout: 60 * time.Second, VirtualTime: 20 * time.Second})
	lines := strings.Split(result, "\n")
	require.Equal(t, "done", lines[len(lines)-1], "the page did not finish:\n%s", result)
	require.Len(t, lines, 10, result)

	assert.Regexp(t, `^start 401 \{.*"error":"unauthorized".*\}$`, lines[0])
	assert.Equal(t, "bad-login cookie login failed: invalid_grant (invalid username or password)", lines[1])
	assert.Regexp(t, `^bad-login-me 401 `, lines[2])
	assert.Equal(t, `cookie-me 200 {"auth":"cookie","client_id":"","scope":"read write","user_id":"1"}`, lines[3])
	assert.Equal(t, `cookie-visible ""`, lines[4], "the session cookie is HttpOnly")
	assert.Regexp(t, `^cookie-logout logged out of the session / 401 `, lines[5])
	assert.Equal(t, `bearer-me 200 {"auth":"bearer","client_id":"demo-spa","scope":"read","user_id":"1"}`, lines[6])
	assert.Regexp(t, `^bearer-logout 401 `, lines[7])
	assert.Equal(t, "final 401", lines[8])
	assert.NotContains(t, result, "ost_")
	assert.NotContains(t, result, "oat_")
}
