package main

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// The code flow of the quickstart's demo-spa, with golang.org/x/oauth2 as
// the client and a browser made of plain requests: the authorization
// request sends a visitor without a session to GET /login with a local
// return_to; the login form posts back to it; the user allows the request
// on the consent page (the first-party client is public, on a loopback
// redirect URI) and the code comes to that URI (any port, RFC 8252 §7.3);
// the code is exchanged with the PKCE verifier, once.
func TestQuickstartAuthorizationCodeFlow(t *testing.T) {
	srv := newTestServer(t, options{})

	resp, meta := call(t, srv, http.MethodGet, "/.well-known/oauth-authorization-server", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var md map[string]any
	require.NoError(t, json.Unmarshal([]byte(meta), &md))
	assert.Equal(t, md["issuer"].(string)+"/oauth2/authorize", md["authorization_endpoint"])
	assert.Equal(t, []any{"code"}, md["response_types_supported"])
	assert.Equal(t, []any{"S256"}, md["code_challenge_methods_supported"])

	cfg := oauth2.Config{
		ClientID: "demo-spa",
		Endpoint: oauth2.Endpoint{
			AuthURL:   srv.URL + "/oauth2/authorize",
			TokenURL:  srv.URL + "/oauth2/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: "http://127.0.0.1:8081/callback",
		Scopes:      []string{"read"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL, err := url.Parse(cfg.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier)))
	require.NoError(t, err)
	authPath := authURL.RequestURI()

	// No session: to the login page, with the request as a local return_to.
	resp, _ = call(t, srv, http.MethodGet, authPath, nil, nil)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "/login", loc.Path)
	returnTo := loc.Query().Get("return_to")
	assert.Equal(t, authPath, returnTo)

	resp, page := call(t, srv, http.MethodGet, loc.RequestURI(), nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Contains(t, page, `<input name="return_to" type="hidden" value="`+strings.ReplaceAll(returnTo, "&", "&amp;")+`">`)

	// A hostile return_to is escaped on the page, and the login handler
	// will not redirect off-site.
	_, page = call(t, srv, http.MethodGet, "/login?return_to="+url.QueryEscape(`"><script>x</script>`), nil, nil)
	assert.NotContains(t, page, "<script>x")

	// Sign in through the form: 303 back to the authorization request.
	resp, _ = call(t, srv, http.MethodPost, "/login", url.Values{
		"username": {"johndoe"}, "password": {"foobar42"}, "return_to": {returnTo}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, returnTo, resp.Header.Get("Location"))
	require.Len(t, resp.Cookies(), 1)
	session := resp.Cookies()[0]

	// With the session: the consent page. demo-spa is first-party, but
	// public on a loopback redirect URI, where any program on the machine
	// could listen: the user is asked (RFC 8252 §8.6).
	cookie := map[string]string{"Cookie": session.Name + "=" + session.Value}
	resp, page = call(t, srv, http.MethodGet, returnTo, nil, cookie)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, `id="consent"`)
	consent := url.Values{"decision": {"allow"}}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		consent.Set(m[1], html.UnescapeString(m[2]))
	}
	cookie["Sec-Fetch-Site"] = "same-origin"
	resp, _ = call(t, srv, http.MethodPost, "/oauth2/authorize", consent, cookie)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	cb, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8081/callback", cb.Scheme+"://"+cb.Host+cb.Path)
	assert.Equal(t, "st-1", cb.Query().Get("state"))
	code := cb.Query().Get("code")
	require.True(t, strings.HasPrefix(code, "oac_"), code)

	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, srv.Client())
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	assert.Equal(t, "1", tok.Extra("user_id"))
	assert.Equal(t, "read", tok.Extra("scope"))
	assert.NotEmpty(t, tok.RefreshToken)

	r, me := getMe(t, srv, tok.AccessToken)
	require.Equal(t, http.StatusOK, r.StatusCode)
	assert.Equal(t, map[string]any{"user_id": "1", "client_id": "demo-spa", "scope": "read", "auth": "bearer"}, me)

	// The code is single-use, and its reuse revokes what it issued.
	_, err = cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "invalid_grant", re.ErrorCode)
	r, _ = getMe(t, srv, tok.AccessToken)
	assert.Equal(t, http.StatusUnauthorized, r.StatusCode)
}

// Every method but GET and POST gets the authorization endpoint's own
// answer (docs/authorization-code.md, step 1): 405 with "Allow: GET, POST"
// and its no-store error page. HEAD included, which a "GET /path" pattern
// of http.ServeMux would hand to the endpoint while answering PUT itself
// with an Allow that lists HEAD.
func TestQuickstartAuthorizeOtherMethods(t *testing.T) {
	srv := newTestServer(t, options{})
	for _, method := range []string{http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		t.Run(method, func(t *testing.T) {
			resp, _ := call(t, srv, method, authorizePath+"?client_id=demo-spa", nil, nil)
			assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
			assert.Equal(t, "GET, POST", resp.Header.Get("Allow"))
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
		})
	}
}
