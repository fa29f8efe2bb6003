package provider_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// A client written to the store directly (storage.ClientStore.CreateClient,
// as the authorization-code guide does) never went through oauth2ctl's
// checks. The endpoint itself must not send a code to a redirect URI that
// cannot be a redirection endpoint: plain http off the loopback interface
// (RFC 9700 §2.6: authorization servers MUST NOT allow it; the code would
// cross the network in clear), a scheme the browser runs or reads locally,
// a relative URI (it would land on this server) or one with a fragment
// (RFC 6749 §3.1.2). Such a URI is not trusted: the answer is the error
// page, never a redirect, whether the request names it or it is the one
// registered URI.
func TestAuthorizeRefusesUnfitRegisteredRedirectURIs(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	for id, uri := range map[string]string{
		"plain-http":    "http://app.example/cb",
		"plain-http-ip": "http://192.0.2.1/cb",
		"script":        "javascript:alert(document.domain)//",
		"data":          "data:text/html,x",
		"relative":      "/cb",
		"fragment":      "https://app.example/cb#x",
		"hostless":      "https:/cb",
		// RFC 6749 §3.1: a response parameter must not appear twice,
		// and the client would read the registered one.
		"query-code":  "https://app.example/cb?code=fixed",
		"query-state": "https://app.example/cb?a=1&state=fixed",
		"query-iss":   "https://app.example/cb?iss=https%3A%2F%2Fevil.example",
		"query-error": "https://app.example/cb?error=",
		// RFC 3986 §2: no URI holds a space or a quote, which net/url
		// takes in a path.
		"space": "https://app.example/a b",
		"quote": `https://app.example/a"b`,
	} {
		t.Run(id, func(t *testing.T) {
			require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{ID: id, Public: true,
				GrantTypes: []string{storage.GrantAuthorizationCode}, Scopes: []string{"read"}, FirstParty: true,
				RedirectURIs: []string{uri}}))
			w := e.get(spaParams("client_id", id, "redirect_uri", uri), "user-1")
			assertErrorPage(t, w, 400, "invalid_request")
			w = e.get(spaParams("client_id", id, "redirect_uri", ""), "user-1")
			assertErrorPage(t, w, 400, "invalid_request")
		})
	}
	t.Run("loopback http and private-use schemes stay allowed", func(t *testing.T) {
		for id, uri := range map[string]string{
			"ok-localhost": "http://localhost:3000/cb",
			"ok-v4":        "http://127.0.0.1/cb",
			"ok-v6":        "http://[::1]:8000/cb",
			"ok-native":    "com.example.app:/oauth2redirect",
			"ok-query":     "https://app.example/cb?tenant=7&codes=1",
		} {
			require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{ID: id, Public: true,
				GrantTypes: []string{storage.GrantAuthorizationCode}, Scopes: []string{"read"},
				RedirectURIs: []string{uri}}))
			consentFields(t, e.get(spaParams("client_id", id, "redirect_uri", uri), "user-1"))
		}
	})
}

// A registered redirect URI whose query is empty ("cb?") or ends in "&"
// gets the response parameters appended as they are (RFC 6749 §3.1.2: the
// query is kept), with no empty pair: "cb?code=…", "cb?x=1&code=…", never
// "cb?&code=…" or "cb?x=1&&code=…".
func TestAuthorizeAppendsToARegisteredQueryWithoutAnEmptyPair(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	for id, uri := range map[string]string{
		"q-empty": "https://app.example/cb?",
		"q-amp":   "https://app.example/cb?x=1&",
		"q-none":  "https://app.example/cb",
		"q-some":  "https://app.example/cb?x=1",
	} {
		t.Run(id, func(t *testing.T) {
			require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{ID: id, Public: true,
				GrantTypes: []string{storage.GrantAuthorizationCode}, Scopes: []string{"read"}, FirstParty: true,
				RedirectURIs: []string{uri}}))
			w := e.get(spaParams("client_id", id, "redirect_uri", uri), "user-1")
			require.Equal(t, http.StatusFound, w.Code, "body: %s", w.Body.String())
			loc := w.Header().Get("Location")
			sep := map[string]string{"q-empty": "", "q-amp": "", "q-none": "?", "q-some": "&"}[id]
			assert.True(t, strings.HasPrefix(loc, uri+sep+"code="), "Location %q", loc)
			assert.Regexp(t, `&state=st-123$`, loc)
		})
	}
}

// Redirect URIs are compared as exact strings, so an internationalized
// one is registered percent-encoded (RFC 3986 §2: no URI holds a
// non-ASCII byte) and a client that sends it raw, as an IRI, names no
// registered URI. The error page says what is wrong with it, not only
// that it is not registered; the percent-encoded spelling gets its code
// and exchanges it.
func TestAuthorizeSaysARequestedRedirectURIIsNoURI(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	const cb = "https://b%C3%BCcher.example/caf%C3%A9"
	require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{ID: "intl", Public: true,
		GrantTypes: []string{storage.GrantAuthorizationCode}, Scopes: []string{"read"}, RedirectURIs: []string{cb}}))
	for _, raw := range []string{"https://bücher.example/café", "https://b%C3%BCcher.example/caf%C3%A9 "} {
		w := e.get(spaParams("client_id", "intl", "redirect_uri", raw), "user-1")
		assertErrorPage(t, w, http.StatusBadRequest, "invalid_request")
		assert.Contains(t, w.Body.String(), "percent-encode it", raw)
		assert.NotContains(t, w.Body.String(), "not registered", raw)
	}
	w := e.get(spaParams("client_id", "intl", "redirect_uri", "https://b%C3%BCcher.example/other"), "user-1")
	assertErrorPage(t, w, http.StatusBadRequest, "invalid_request")
	assert.Contains(t, w.Body.String(), "not registered")

	code := e.code(t, spaParams("client_id", "intl", "redirect_uri", cb), "user-1")
	assertToken(t, e.do(req{form: exchange(code, "client_id", "intl", "redirect_uri", cb)}))
}
