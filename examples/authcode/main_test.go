package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
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
	"golang.org/x/oauth2"

	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// newServer is a stand-in for the quickstart's code flow: the memory
// store, the first-party public client demo-spa with the redirect URI
// http://127.0.0.1:8081/callback, the authorization and token endpoints
// and /api/me behind the bearer policy. A request with the cookie
// "user=1" is signed in as user 1.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	store := memory.New(memory.Config{})
	require.NoError(t, store.CreateClient(t.Context(), &storage.Client{
		ID: "demo-spa", Public: true, FirstParty: true,
		GrantTypes:   []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken},
		Scopes:       []string{"read", "write"},
		RedirectURIs: []string{"http://127.0.0.1:8081/callback"},
	}))
	// Like the quickstart, the provider has an issuer, so its answers carry
	// iss (RFC 9207).
	srv := httptest.NewUnstartedServer(nil)
	p, err := provider.New(provider.Config{Clients: store, Tokens: store, Scopes: []string{"read", "write"}, AllowInsecureHTTP: true,
		Issuer: "http://" + srv.Listener.Addr().String(), Endpoints: provider.Endpoints{Authorization: "/oauth2/authorize"}})
	require.NoError(t, err)
	az, err := p.AuthorizeHandler(provider.AuthorizeConfig{
		SignedInUser: func(r *http.Request) (string, error) {
			c, err := r.Cookie("user")
			if err != nil {
				return "", nil // no cookie: nobody is signed in
			}
			return c.Value, nil
		},
		LoginURL: "/login",
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/oauth2/authorize", az)
	mux.Handle("POST /oauth2/token", p.TokenHandler())
	mux.Handle("GET "+p.MetadataPath(), p.MetadataHandler())
	mux.Handle("GET /api/me", policy.Bearer(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := policy.IdentityFrom(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]string{"user_id": id.UserID, "client_id": id.ClientID})
	})))
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestRunDoesTheWholeFlow runs the program's flow with a "browser" that is
// signed in and follows redirects to the program's own callback.
func TestRunDoesTheWholeFlow(t *testing.T) {
	srv := newServer(t)
	tok, out, err := runFlow(t, srv.URL, signedInBrowser)
	require.NoError(t, err, out)
	assert.Equal(t, "1", tok.Extra("user_id"))
	assert.NotEmpty(t, tok.RefreshToken)
	assert.Contains(t, out, `got a Bearer token for user 1, scope "read"`)
	assert.Contains(t, out, `GET /api/me: 200 {"client_id":"demo-spa","user_id":"1"}`)
	assert.NotContains(t, out, tok.AccessToken, "tokens are never printed")
	assert.NotContains(t, out, tok.RefreshToken, "tokens are never printed")
}

// TestRunRefusedAuthorization checks that an error answer ends the run.
func TestRunRefusedAuthorization(t *testing.T) {
	srv := newServer(t)
	browse := func(u string) error {
		resp, err := http.Get(strings.Replace(u, "scope=read", "scope=admin", 1)) // invalid_scope comes back
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := run(ctx, config{issuer: srv.URL, clientID: "demo-spa", listen: "127.0.0.1:0", scopes: []string{"read"}, timeout: 10 * time.Second}, &strings.Builder{}, browse)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid_scope")
}

// signedInBrowser is a browser signed in as user 1 that opens u, lets the
// user allow the request on the consent page (a public client on a
// loopback redirect URI is asked for, first-party or not), and follows
// the redirects to the program's callback in the end.
func signedInBrowser(u string) error { return signedInBrowserRewriting(u, nil) }

// signedInBrowserRewriting is signedInBrowser, but when the consent POST
// is answered with a redirect, rewrite (unless nil) changes its target
// before the browser follows it.
func signedInBrowserRewriting(u string, rewrite func(*url.URL)) error {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.AddCookie(&http.Cookie{Name: "user", Value: "1"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	page, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || !bytes.Contains(page, []byte(`id="consent"`)) {
		return err // no consent page: the redirects were followed
	}
	form := url.Values{"decision": {"allow"}}
	for _, m := range hiddenInput.FindAllSubmatch(page, -1) {
		form.Set(string(m[1]), html.UnescapeString(string(m[2])))
	}
	action := consentAction.FindSubmatch(page)
	if action == nil {
		return errors.New("consent page without a form action")
	}
	target, err := resp.Request.URL.Parse(html.UnescapeString(string(action[1])))
	if err != nil {
		return err
	}
	post, err := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("Sec-Fetch-Site", "same-origin")
	post.AddCookie(&http.Cookie{Name: "user", Value: "1"})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Do(post)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return err
	}
	if rewrite != nil {
		rewrite(loc)
	}
	resp, err = http.Get(loc.String())
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// The consent page's form action and hidden fields.
var (
	consentAction = regexp.MustCompile(`<form method="post" action="([^"]*)" id="consent">`)
	hiddenInput   = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// runFlow runs the program against the server at issuer for the public
// client demo-spa, opening the authorization URL with browse, and
// returns what run returned and printed.
func runFlow(t *testing.T, issuer string, browse func(string) error) (*oauth2.Token, string, error) {
	t.Helper()
	var out strings.Builder
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	tok, err := run(ctx, config{issuer: issuer, clientID: "demo-spa", listen: "127.0.0.1:0", scopes: []string{"read"}, timeout: 10 * time.Second}, &out, browse)
	return tok, out.String(), err
}
