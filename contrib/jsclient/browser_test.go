package jsclient_test

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/contrib/jsclient"
	"github.com/oauth2provider/oauth2provider/internal/browsertest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// browserUserID is the user ID behind johndoe; it differs from the username
// so that seeing it in the page proves the answer came from /api/me.
const browserUserID = "user-7d3f1c"

// browserPage logs in through the <form class="oauth"> on load, then calls
// /api/me with OAuthClient.fetch, refreshes the tokens, calls /api/me again
// and writes every step into <pre id="result">.
var browserPage = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>jsclient browser test</title>
<script src="/js/oauth_client.js" data-client-id="demo-spa"></script>
</head><body>
<form class="oauth" method="post" action="/oauth2/token">
  <input name="username" autocomplete="username">
  <input name="password" type="password" autocomplete="current-password">
  <input name="scope" type="hidden" value="read">
  <button type="submit">Log in</button>
</form>
<pre id="result">pending</pre>
<script>
var out = document.getElementById('result');
function show(line) { out.textContent = (out.textContent === 'pending' ? '' : out.textContent + '\n') + line; }
function me(label) {
  return OAuthClient.fetch('/api/me').then(function (res) {
    return res.text().then(function (body) { show(label + ' ' + res.status + ' ' + body.trim()); });
  });
}
window.oauthResponseHandler = function (result) {
  show('login ' + JSON.stringify(result));
  if (result.error) { return; }
  me('me1').then(function () {
    return OAuthClient.refresh();
  }).then(function (r) {
    show('refresh ' + (r.error ? r.error : 'ok'));
    return me('me2');
  }).then(function () {
    show('stored ' + localStorage.length + ' ' + sessionStorage.length + ' ' + JSON.stringify(document.cookie));
    show('url ' + location.href);
    show('done');
  }, function (e) { show('exception ' + e); });
};
window.addEventListener('load', function () {
  var form = document.querySelector('form.oauth');
  form.elements.username.value = {{.Username}};
  form.elements.password.value = {{.Password}};
  form.requestSubmit();
});
</script>
</body></html>
`))

// newBrowserServer serves the page, the script, the real token endpoint
// over the memory store and a protected /api/me.
func newBrowserServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(newBrowserMux(t))
	t.Cleanup(srv.Close)
	return srv
}

// newBrowserMux is the handler of [newBrowserServer], for tests that add
// routes of their own.
func newBrowserMux(t *testing.T) *http.ServeMux {
	t.Helper()
	store := memory.New(memory.Config{})
	require.NoError(t, store.CreateClient(t.Context(), &storage.Client{
		ID:         "demo-spa",
		Public:     true,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken},
		Scopes:     []string{"read", "write"},
	}))
	var users authcheck.Static
	require.NoError(t, users.Add("johndoe", "foobar42", browserUserID))
	p, err := provider.New(provider.Config{
		Clients:           store,
		Tokens:            store,
		Users:             &users,
		AllowInsecureHTTP: true,
	})
	require.NoError(t, err)

	mux := http.NewServeMux()
	mux.Handle("GET /js/oauth_client.js", jsclient.Handler())
	mux.Handle("POST /oauth2/token", p.TokenHandler())
	mux.Handle("/api/me", policy.Bearer(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := policy.IdentityFrom(r.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"user_id":   id.UserID,
			"client_id": id.ClientID,
			"scope":     strings.Join(id.Scopes, " "),
			"auth":      id.Method,
		})
	})))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = browserPage.Execute(w, struct{ Username, Password string }{
			r.URL.Query().Get("u"), r.URL.Query().Get("p"),
		})
	})
	return mux
}

// TestBrowserLogin drives the real script in headless Chromium against the
// real token endpoint and bearer policy: the form logs in, OAuthClient.fetch
// reaches /api/me with the token, a refresh rotates it, and no token shows up
// in the page, the URL, Web Storage or a cookie.
func TestBrowserLogin(t *testing.T) {
	bin := browsertest.Chromium(t)
	srv := newBrowserServer(t)

	result := browsertest.Result(t, bin, srv.URL+"/?u=johndoe&p=foobar42", browsertest.Options{})
	lines := strings.Split(result, "\n")
	require.GreaterOrEqual(t, len(lines), 6, "page did not finish:\n%s", result)

	assert.Regexp(t, `^login \{.*"token_type":"Bearer".*\}$`, lines[0])
	assert.Contains(t, lines[0], `"user_id":"`+browserUserID+`"`)
	assert.NotContains(t, result, "access_token", "the page must not see the tokens")
	assert.NotContains(t, result, "refresh_token", "the page must not see the tokens")

	wantMe := `{"auth":"bearer","client_id":"demo-spa","scope":"read","user_id":"` + browserUserID + `"}`
	assert.Equal(t, "me1 200 "+wantMe, lines[1])
	assert.Equal(t, "refresh ok", lines[2])
	assert.Equal(t, "me2 200 "+wantMe, lines[3])
	assert.Equal(t, `stored 0 0 ""`, lines[4], "nothing in localStorage, sessionStorage or cookies")
	assert.Equal(t, "url "+srv.URL+"/?u=johndoe&p=foobar42", lines[5], "the form submit must not navigate")
	assert.Equal(t, "done", lines[len(lines)-1])
}

// TestBrowserWrongPassword checks that a refused login reaches
// oauthResponseHandler as the provider's RFC 6749 §5.2 error.
func TestBrowserWrongPassword(t *testing.T) {
	bin := browsertest.Chromium(t)
	srv := newBrowserServer(t)

	result := browsertest.Result(t, bin, srv.URL+"/?u=johndoe&p=wrong", browsertest.Options{})
	require.True(t, strings.HasPrefix(result, "login "), "page did not finish:\n%s", result)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(result, "login ")), &got), result)
	assert.Equal(t, "invalid_grant", got["error"])
	assert.InDelta(t, 400, got["status"], 0)
	assert.NotEmpty(t, got["description"])
	assert.NotContains(t, result, "me1", "no API call after a failed login")
}

// basePage has a <base href> on another origin: window.fetch resolves
// relative URLs against it, so OAuthClient.fetch("/api/me") goes there.
var basePage = template.Must(template.New("base").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>jsclient base test</title>
<base href="{{.Other}}/assets/">
<script src="{{.App}}/js/oauth_client.js" data-client-id="demo-spa"
        data-token-endpoint="{{.App}}/oauth2/token"></script>
</head><body>
<pre id="result">pending</pre>
<script>
var out = document.getElementById('result');
function show(line) { out.textContent = (out.textContent === 'pending' ? '' : out.textContent + '\n') + line; }
OAuthClient.login('johndoe', 'foobar42').then(function (r) {
  show('login ' + (r.error || 'ok'));
  if (r.error) { return; }
  return OAuthClient.fetch('/api/me').then(function (res) { show('base ' + res.status); },
    function (e) { show('base exception ' + e); });
}).then(function () { show('done'); });
</script>
</body></html>
`))

// TestBrowserBaseElementGetsNoToken checks that the access token goes where
// Chromium actually sends the request: with a <base href> on another
// origin, a relative URL is that origin's, which is not allowed.
func TestBrowserBaseElementGetsNoToken(t *testing.T) {
	bin := browsertest.Chromium(t)

	var mu sync.Mutex
	var seen []string // Authorization headers the other origin received
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A permissive CORS answer, as a server that wants the token gives.
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(other.Close)

	mux := newBrowserMux(t)
	var app *httptest.Server
	mux.HandleFunc("GET /base", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = basePage.Execute(w, struct{ App, Other string }{app.URL, other.URL})
	})
	// Started after app is set, so that its handlers, which read it, see
	// it (a request comes from the browser, which the race detector does
	// not see order anything).
	app = httptest.NewUnstartedServer(mux)
	app.Start()
	t.Cleanup(app.Close)

	result := browsertest.Result(t, bin, app.URL+"/base", browsertest.Options{})
	require.Equal(t, "login ok\nbase 200\ndone", result, "the call must reach the <base> origin")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"GET /api/me "}, seen, "no bearer token for the <base> element's origin")
}

// clobberPage has markup injected before the script tag (no script of its
// own: a strict Content-Security-Policy lets it through): an <img
// name="currentScript">, which the document's named properties put in
// front of document.currentScript, with data- attributes of its own.
var clobberPage = template.Must(template.New("clobber").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>jsclient clobber test</title></head><body>
<p>A comment: <img name="currentScript" data-client-id="demo-spa"
  data-token-endpoint="{{.Other}}/token" data-allowed-origins="{{.Other}}"></p>
<script src="/js/oauth_client.js" data-client-id="demo-spa"></script>
<pre id="result">pending</pre>
<script>
var out = document.getElementById('result');
function show(line) { out.textContent = (out.textContent === 'pending' ? '' : out.textContent + '\n') + line; }
OAuthClient.login('johndoe', 'foobar42').then(function (r) {
  show('login ' + (r.error || 'ok'));
  if (r.error) { return; }
  return OAuthClient.fetch({{.Other}} + "/api").then(function (res) { show('other ' + res.status); },
    function (e) { show('other exception ' + e); });
}).then(function () { show('done'); });
</script>
</body></html>
`))

// TestBrowserClobberedCurrentScriptConfiguresNothing: markup injected in
// front of the script (an <img name="currentScript">) is what
// document.currentScript returns while the script runs; its data-
// attributes must not choose where the password and the tokens go.
func TestBrowserClobberedCurrentScriptConfiguresNothing(t *testing.T) {
	bin := browsertest.Chromium(t)

	var mu sync.Mutex
	var seen []string // what the other origin received
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		_ = r.ParseForm()
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" password="+r.PostForm.Get("password")+" auth="+r.Header.Get("Authorization"))
		mu.Unlock()
		h.Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"stolen","token_type":"Bearer"}`))
	}))
	t.Cleanup(other.Close)

	mux := newBrowserMux(t)
	mux.HandleFunc("GET /clobber", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = clobberPage.Execute(w, struct{ Other string }{other.URL})
	})
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)

	result := browsertest.Result(t, bin, app.URL+"/clobber", browsertest.Options{})
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"GET /api password= auth="}, seen,
		"the injected markup's origin got the password or a token")
	assert.Equal(t, "login ok\nother 200\ndone", result, "the login goes to the page's own token endpoint")
}

// listenerPage has an <img name="addEventListener"> injected before the
// script tag, which the document's named properties put in front of
// document.addEventListener, then a login form that it submits on load.
const listenerPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>jsclient listener clobber test</title></head><body>
<p>A comment: <img name="addEventListener"></p>
<script src="/js/oauth_client.js" data-client-id="demo-spa"></script>
<form class="oauth" method="post" action="/oauth2/token">
  <input name="username" value="johndoe">
  <input name="password" type="password" value="foobar42">
</form>
<pre id="result">pending</pre>
<script>
var out = document.getElementById('result');
window.oauthResponseHandler = function (result) {
  out.textContent = 'login ' + (result.error || 'ok') + '\n' + location.pathname;
};
window.onload = function () { document.querySelector('form.oauth').requestSubmit(); };
</script>
</body></html>
`

// TestBrowserClobberedAddEventListenerStillHandlesForms: markup injected
// in front of the script must not turn its form handling off, which
// leaves each form.oauth to the browser (a native POST of the password,
// and a page of JSON instead of the login).
func TestBrowserClobberedAddEventListenerStillHandlesForms(t *testing.T) {
	bin := browsertest.Chromium(t)
	mux := newBrowserMux(t)
	mux.HandleFunc("GET /listener", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(listenerPage))
	})
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)

	result := browsertest.Result(t, bin, app.URL+"/listener", browsertest.Options{})
	assert.Equal(t, "login ok\n/listener", result)
}

// formClobberPage has markup injected after the login form that joins it
// (form="login"): inputs named like the form's built-in properties, which
// a form's named properties override.
const formClobberPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>jsclient form clobber test</title>
<script src="/js/oauth_client.js" data-client-id="demo-spa"></script></head><body>
<form class="oauth" id="login" method="post" action="/oauth2/token">
  <input name="username" value="johndoe">
  <input name="password" type="password" value="foobar42">
</form>
<p>A comment: <input form="login" type="hidden" name="classList"><input form="login" type="hidden" name="getAttribute">
<input form="login" type="hidden" name="dataset"><input form="login" type="hidden" name="elements"></p>
<pre id="result">pending</pre>
<script>
var out = document.getElementById('result');
window.oauthResponseHandler = function (result) {
  out.textContent = 'login ' + (result.error || 'ok') + '\n' + location.pathname;
};
window.onload = function () { document.getElementById('login').requestSubmit(); };
</script>
</body></html>
`

// TestBrowserClobberedFormStillLogsIn: inputs injected into the login
// form (form="login") named like its built-in properties must not stop
// the script handling it, which leaves it to the browser.
func TestBrowserClobberedFormStillLogsIn(t *testing.T) {
	bin := browsertest.Chromium(t)
	mux := newBrowserMux(t)
	mux.HandleFunc("GET /formclobber", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(formClobberPage))
	})
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)

	result := browsertest.Result(t, bin, app.URL+"/formclobber", browsertest.Options{})
	assert.Equal(t, "login ok\n/formclobber", result)
}

// framePage has an <iframe name="OAuthClient"> of another origin injected
// before the script tag: window.OAuthClient is then that frame's window,
// whose properties another origin may not read.
var framePage = template.Must(template.New("frame").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>jsclient frame clobber test</title></head><body>
<p>A comment: <iframe name="OAuthClient" src="{{.Other}}/"></iframe></p>
<script src="/js/oauth_client.js" data-client-id="demo-spa"></script>
<form class="oauth" method="post" action="/oauth2/token">
  <input name="username" value="johndoe">
  <input name="password" type="password" value="foobar42">
</form>
<pre id="result">pending</pre>
<script>
var out = document.getElementById('result');
window.oauthResponseHandler = function (result) {
  out.textContent = 'login ' + (result.error || 'ok') + ' ' + (typeof OAuthClient.logout) + '\n' + location.pathname;
};
window.onload = function () { document.querySelector('form.oauth').requestSubmit(); };
</script>
</body></html>
`))

// TestBrowserFrameNamedOAuthClientDoesNotStopTheScript: a frame named
// OAuthClient (of another origin, whose window throws on reading a
// property) is no client loaded before: the script must still load, and
// handle the login form.
func TestBrowserFrameNamedOAuthClientDoesNotStopTheScript(t *testing.T) {
	bin := browsertest.Chromium(t)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><p>other</p>"))
	}))
	t.Cleanup(other.Close)
	mux := newBrowserMux(t)
	mux.HandleFunc("GET /frame", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = framePage.Execute(w, struct{ Other string }{other.URL})
	})
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)

	result := browsertest.Result(t, bin, app.URL+"/frame", browsertest.Options{})
	assert.Equal(t, "login ok function\n/frame", result)
}
