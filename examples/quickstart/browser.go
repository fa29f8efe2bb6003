package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/oauth2provider/oauth2provider/contrib/jsclient"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// spaClientID is the public client the browser page logs in with.
const spaClientID = "demo-spa"

// createSPAClient registers demo-spa, idempotently: a public first-party
// client for the page's JS client (password and refresh_token; the
// authorization_code grant and its redirect URI are for the code flow).
func createSPAClient(ctx context.Context, clients storage.ClientStore) error {
	err := clients.CreateClient(ctx, &storage.Client{
		ID:           spaClientID,
		Public:       true,
		FirstParty:   true,
		GrantTypes:   []string{storage.GrantPassword, storage.GrantRefreshToken, storage.GrantAuthorizationCode},
		Scopes:       []string{"read", "write"},
		RedirectURIs: []string{"http://127.0.0.1:8081/callback"},
		CreatedAt:    time.Now(),
	})
	if err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
		return fmt.Errorf("create client %s: %w", spaClientID, err)
	}
	return nil
}

// bindingKey returns a fresh random key for provider.Config.BindingKey
// with -bind, else nil. The key lives as long as the process: with a
// persistent -store, tokens bound before a restart are refused (and
// revoked) after it, which a real deployment avoids by loading its key
// from a secret store.
func bindingKey(o options) []byte {
	if !o.bind {
		return nil
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails (crypto/rand.Read)
	return key
}

// authorizePath is where the authorization endpoint of the code flow is
// mounted (and advertised in the metadata).
const authorizePath = "/oauth2/authorize"

// mountBrowser mounts the browser's routes (GET and POST /login, POST
// /logout, GET|POST /oauth2/authorize, GET /js/oauth_client.js and the
// page at GET /) and returns the policy of /api/me: a session cookie or a
// bearer token.
func mountBrowser(mux *http.ServeMux, p *provider.Provider) (func(http.Handler) http.Handler, error) {
	sessions, err := policy.NewSessions(p, policy.SessionConfig{
		Scopes:  []string{"read", "write"},
		Sliding: true,
	})
	if err != nil {
		return nil, err
	}
	// The code flow: the signed-in user is the one of the session cookie;
	// without one, the browser is sent to GET /login and back. The
	// sessions share the store with the clients, so when it is down the
	// client cannot be read and the browser gets the 503 error page; when
	// only the sessions cannot be read (say one node of a Redis Cluster),
	// the client gets temporarily_unavailable, never the login page.
	az, err := p.AuthorizeHandler(provider.AuthorizeConfig{
		SignedInUser: sessions.SignedInUser,
		LoginURL:     "/login",
	})
	if err != nil {
		return nil, err
	}
	// For every method: the endpoint answers all but GET and POST with
	// 405 and "Allow: GET, POST" itself. (Patterns "GET …" and "POST …"
	// would give it HEAD, and answer PUT with an Allow that lists HEAD.)
	mux.Handle(authorizePath, az)
	mux.HandleFunc("GET /login", serveLoginPage)
	mux.Handle("POST /login", sessions.LoginHandler())
	mux.Handle("POST /logout", sessions.LogoutHandler())
	mux.Handle("GET /js/oauth_client.js", jsclient.Handler())
	mux.HandleFunc("GET /{$}", servePage)
	return policy.CookieOrBearer(sessions), nil
}

// serveLoginPage serves the sign-in form that the authorization endpoint
// sends a visitor without a session to. The form posts to /login with the
// return_to it was given; the login handler redirects only to local paths,
// so a forged return_to cannot send the user to another site. Its
// failure_to is this page with the same return_to: a mistyped password
// (or a throttled attempt, an outage) comes back here with error (and
// retry_after) in the URL, shown as fixed text for its code.
//
// Its Content-Security-Policy has no form-action: browsers apply it to
// every redirect that follows the form, and after signing in the
// authorization endpoint sends a first-party client (no consent page) its
// code on the client's own origin, which "form-action 'self'" would stop.
// The page's one form, a template without scripts, posts to /login.
func serveLoginPage(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w.Header(), "default-src 'self'; frame-ancestors 'self'")
	q := r.URL.Query()
	returnTo := q.Get(policy.FieldReturnTo)
	if returnTo == "" {
		returnTo = "/"
	}
	failureTo := url.URL{Path: "/login", RawQuery: url.Values{policy.FieldReturnTo: {returnTo}}.Encode()}
	_ = loginPage.Execute(w, loginPageData{
		ReturnTo:  returnTo,
		FailureTo: failureTo.String(),
		Error:     loginError(q.Get(policy.ParamError), q.Get(policy.ParamRetryAfter)),
	})
}

// loginPageData fills loginPage.
type loginPageData struct {
	ReturnTo, FailureTo string
	Error               string // the message of a failed attempt, or ""
}

// loginError is the message for a failed sign-in's error code and
// retry_after: fixed text, since anyone can link to this page with any
// query, of which only a number of seconds is shown.
func loginError(code, retryAfter string) string {
	switch code {
	case "":
		return ""
	case provider.CodeInvalidGrant:
		return "Wrong username or password."
	case provider.CodeInvalidRequest:
		return "Enter your username and password."
	case provider.CodeSlowDown:
		if secs, err := strconv.ParseUint(retryAfter, 10, 32); err == nil {
			return fmt.Sprintf("Too many failed attempts: try again in %d seconds.", secs)
		}
		return "Too many failed attempts: try again later."
	case provider.CodeTemporarilyUnavailable:
		return "Signing in is unavailable right now: try again later."
	}
	return "Signing in failed: try again."
}

// loginPage is the sign-in form of the code flow.
var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in</h1>
<p>Demo user: <code>johndoe</code> / <code>foobar42</code>.</p>
{{with .Error}}<p role="alert">{{.}}</p>
{{end}}<form id="login" method="post" action="/login">
  <input name="username" autocomplete="username" placeholder="username">
  <input name="password" type="password" autocomplete="current-password" placeholder="password">
  <input name="return_to" type="hidden" value="{{.ReturnTo}}">
  <input name="failure_to" type="hidden" value="{{.FailureTo}}">
  <button type="submit">Sign in</button>
</form>
</body></html>
`))

// setPageHeaders sets the headers of the quickstart's HTML pages: never
// cached, no sniffing, no referrer, and the Content-Security-Policy csp.
func setPageHeaders(h http.Header, csp string) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// servePage serves the demo page under a strict Content-Security-Policy:
// scripts from this origin and the page's own script by nonce only.
func servePage(w http.ResponseWriter, r *http.Request) {
	var n [16]byte
	_, _ = rand.Read(n[:])
	nonce := base64.RawURLEncoding.EncodeToString(n[:]) // no "+" or "/": the page need not escape it
	setPageHeaders(w.Header(), "default-src 'self'; script-src 'self' 'nonce-"+nonce+"'; "+
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
	_ = page.Execute(w, struct{ Nonce, ClientID string }{nonce, spaClientID})
}

// page logs in two ways and shows GET /api/me after each step:
//
//   - with the JS client (<form class="oauth">): the password grant of the
//     public client demo-spa; the tokens stay inside oauth_client.js and
//     /api/me is called with Authorization: Bearer;
//   - with a session cookie (POST /login): an HttpOnly cookie the page's
//     script never sees. The form works without JavaScript too (303 back to
//     /); with it, it is sent by fetch and the page is not reloaded.
var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>oauth2provider quickstart</title>
<script src="/js/oauth_client.js" data-client-id="{{.ClientID}}" data-scope="read" data-revoke-endpoint="/oauth2/revoke"></script>
</head><body>
<h1>oauth2provider quickstart</h1>
<p>Log in as <code>johndoe</code> / <code>foobar42</code>.</p>

<h2>With the JS client (bearer token)</h2>
<form class="oauth" id="bearer-login" data-client-id="{{.ClientID}}" method="post" action="/oauth2/token">
  <input name="username" autocomplete="username" placeholder="username">
  <input name="password" type="password" autocomplete="current-password" placeholder="password">
  <button type="submit">Log in</button>
</form>
<button type="button" id="bearer-logout">Log out (JS client)</button>

<h2>With a session cookie</h2>
<form id="cookie-login" method="post" action="/login">
  <input name="username" autocomplete="username" placeholder="username">
  <input name="password" type="password" autocomplete="current-password" placeholder="password">
  <input name="return_to" type="hidden" value="/">
  <button type="submit">Log in</button>
</form>
<form id="cookie-logout" method="post" action="/logout">
  <input name="return_to" type="hidden" value="/">
  <button type="submit">Log out (cookie)</button>
</form>

<h2>GET /api/me</h2>
<p id="status"></p>
<pre id="me">loading…</pre>

<script nonce="{{.Nonce}}">
(function () {
  var me = document.getElementById('me');
  var status = document.getElementById('status');
  function showMe() {
    // OAuthClient.fetch adds the bearer token when the JS client holds one;
    // otherwise this is a plain same-origin fetch that carries the cookie.
    return OAuthClient.fetch('/api/me', {cache: 'no-store'}).then(function (res) {
      return res.text().then(function (body) { me.textContent = res.status + ' ' + body.trim(); });
    }, function (e) { me.textContent = 'error ' + e; });
  }
  window.oauthResponseHandler = function (result) {
    status.textContent = result.error ? 'JS client login failed: ' + result.error + ' (' + result.description + ')'
                                      : 'logged in with the JS client';
    showMe();
  };
  document.getElementById('bearer-logout').addEventListener('click', function () {
    OAuthClient.logout().then(function () { status.textContent = 'logged out of the JS client'; showMe(); });
  });
  function post(form) {
    var body = new URLSearchParams(new FormData(form));
    body.delete('return_to'); // answer JSON instead of redirecting
    return fetch(form.action, {method: 'POST', body: body, cache: 'no-store', redirect: 'error'});
  }
  document.getElementById('cookie-login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var form = ev.target;
    post(form).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        status.textContent = res.ok ? 'logged in with a session cookie'
                                    : 'cookie login failed: ' + (body.error || res.status) + ' (' + (body.error_description || '') + ')';
        form.elements.password.value = '';
        showMe();
      });
    }, function (e) { status.textContent = 'cookie login failed: ' + e; });
  });
  document.getElementById('cookie-logout').addEventListener('submit', function (ev) {
    ev.preventDefault();
    post(ev.target).then(function (res) {
      status.textContent = res.ok ? 'logged out of the session' : 'logout failed: ' + res.status;
      showMe();
    }, function (e) { status.textContent = 'logout failed: ' + e; });
  });
  showMe();
})();
</script>
</body></html>
`))
