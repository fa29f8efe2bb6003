package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/browsertest"
	"github.com/oauth2provider/oauth2provider/internal/storeurl"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/storage"
)

// loginDriver loads an authorization request in a same-origin iframe,
// signs in on the login page it is sent to, and gives the redirects that
// follow the form two seconds.
const loginDriver = `<!doctype html>
<html><head><meta charset="utf-8"><title>login redirect test</title></head><body>
<iframe id="app" width="800" height="600"></iframe>
<pre id="result">pending</pre>
<script>
var out = document.getElementById('result');
var frame = document.getElementById('app');
var signedIn = false;
frame.addEventListener('load', function () {
  if (signedIn) return;
  var d; try { d = frame.contentDocument; } catch (e) {}
  var f = d && d.getElementById('login');
  if (!f) { out.textContent = 'no login form'; return; }
  signedIn = true;
  f.elements.username.value = 'johndoe';
  f.elements.password.value = 'foobar42';
  f.requestSubmit();
  setTimeout(function () { out.textContent = 'done'; }, 2000);
});
frame.src = new URLSearchParams(location.search).get('authorize');
</script>
</body></html>
`

// The login page's form starts the redirects that end at the client: a
// first-party client skips the consent page, so POST /login answers 303
// to the authorization endpoint, which answers 302 to the client's
// redirect URI on another origin. Chromium applies the page's
// Content-Security-Policy form-action to every redirect of the form's
// navigation, so "form-action 'self'" stopped the code on its way to the
// client and the user was left on a blank frame.
func TestBrowserLoginRedirectsToTheClient(t *testing.T) {
	bin := browsertest.Chromium(t)
	storeURL := storeurltest.Redis(t)

	var mu sync.Mutex
	var got url.Values
	client := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cb" {
			mu.Lock()
			got = r.URL.Query()
			mu.Unlock()
		}
		_, _ = w.Write([]byte("client"))
	}))
	t.Cleanup(client.Close)

	ctx := context.Background()
	s, err := storeurl.Open(ctx, storeURL, storeurl.Options{})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	hash, err := storage.HashSecret("web-secret-for-the-test-0123456789")
	require.NoError(t, err)
	require.NoError(t, s.Clients.CreateClient(ctx, &storage.Client{
		ID: "demo-web", SecretHash: hash, FirstParty: true,
		GrantTypes:   []string{storage.GrantAuthorizationCode},
		Scopes:       []string{"read"},
		RedirectURIs: []string{client.URL + "/cb"},
		CreatedAt:    time.Now(),
	}))

	a, err := newApp(ctx, options{store: storeURL, addr: "127.0.0.1:0", loopback: true,
		accessTTL: time.Hour, refreshTTL: 720 * time.Hour})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__driver", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(loginDriver))
	})
	mux.Handle("/", a.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	authorize := authorizePath + "?" + url.Values{
		"response_type": {"code"}, "client_id": {"demo-web"}, "redirect_uri": {client.URL + "/cb"},
		"scope": {"read"}, "state": {"st-42"},
	}.Encode()
	result := browsertest.Result(t, bin, srv.URL+"/__driver?"+url.Values{"authorize": {authorize}}.Encode(),
		browsertest.Options{Timeout: 60 * time.Second, VirtualTime: 10 * time.Second})
	require.Equal(t, "done", strings.TrimSpace(result))

	mu.Lock()
	defer mu.Unlock()
	require.NotNil(t, got, "the browser never reached the client's redirect URI")
	assert.Equal(t, "st-42", got.Get("state"))
	assert.NotEmpty(t, got.Get("code"))
}
