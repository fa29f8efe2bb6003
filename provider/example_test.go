package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// Example wires a provider over the in-memory store and a static user
// list, then gets a token with the password grant.
func Example() {
	ctx := context.Background()
	store := memory.New(memory.Config{})

	// Register a confidential client; keep only the secret's hash.
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		log.Fatal(err)
	}
	err = store.CreateClient(ctx, &storage.Client{
		ID:            "demo-client",
		SecretHash:    hash,
		GrantTypes:    []string{storage.GrantPassword, storage.GrantRefreshToken},
		Scopes:        []string{"read", "write"},
		DefaultScopes: []string{"read"},
	})
	if err != nil {
		log.Fatal(err)
	}

	var users authcheck.Static
	if err := users.Add("johndoe", "foobar42", "user-1"); err != nil {
		log.Fatal(err)
	}

	p, err := provider.New(provider.Config{
		Clients: store,
		Tokens:  store,
		Users:   &users,
		Scopes:  []string{"read", "write"},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oauth2/token", p.TokenHandler())
	srv := httptest.NewTLSServer(mux) // the provider refuses plain HTTP by default
	defer srv.Close()

	form := url.Values{
		"grant_type": {"password"},
		"username":   {"johndoe"},
		"password":   {"foobar42"},
		"scope":      {"read write"},
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape("demo-client"), url.QueryEscape(secret))
	resp, err := srv.Client().Do(req) // trusts the test server's certificate
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()

	var tok struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int    `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
		Scope        string `json:"scope"`
		UserID       string `json:"user_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status, resp.Header.Get("Cache-Control"))
	fmt.Println(tok.TokenType, tok.ExpiresIn, tok.Scope, tok.UserID)
	fmt.Println(strings.HasPrefix(tok.AccessToken, "oat_"), strings.HasPrefix(tok.RefreshToken, "ort_"))
	// Output:
	// 200 OK no-store
	// Bearer 3600 read write user-1
	// true true
}

// ExampleProvider_AuthorizeHandler registers a public client for the
// authorization code grant with PKCE and mounts the authorization
// endpoint, whose signed-in user is the one of policy's session cookie. A
// visitor without a session is sent to the login page with a local
// return_to.
func ExampleProvider_AuthorizeHandler() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	clients := store
	p, err := provider.New(provider.Config{
		Clients:   store,
		Tokens:    store,
		Scopes:    []string{"read", "write"},
		Issuer:    "https://auth.example",
		Endpoints: provider.Endpoints{Authorization: "/oauth2/authorize"},
	})
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := policy.NewSessions(p, policy.SessionConfig{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()

	err = clients.CreateClient(ctx, &storage.Client{
		ID:           "my-spa",
		Public:       true,  // no secret: must use PKCE S256
		FirstParty:   false, // true skips the consent page (your own apps only)
		GrantTypes:   []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken},
		Scopes:       []string{"read", "write"},
		RedirectURIs: []string{"https://spa.example/callback", "http://127.0.0.1/callback"},
	})
	if err != nil {
		log.Fatal(err)
	}

	az, err := p.AuthorizeHandler(provider.AuthorizeConfig{
		SignedInUser: sessions.SignedInUser, // the user of policy's session cookie; an error on an outage
		LoginURL:     "/login",              // gets ?return_to=/oauth2/authorize?...
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/oauth2/authorize", az)                // GET and POST; 405 for any other method
	mux.Handle("POST /oauth2/token", p.TokenHandler()) // serves grant_type=authorization_code

	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {"my-spa"},
		"redirect_uri":          {"https://spa.example/callback"},
		"scope":                 {"read"},
		"state":                 {"xyz"},
		"code_challenge":        {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"},
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://auth.example/oauth2/authorize?"+q.Encode(), nil))
	loc, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.Code, loc.Path)
	fmt.Println(strings.HasPrefix(loc.Query().Get("return_to"), "/oauth2/authorize?"))
	// Output:
	// 302 /login
	// true
}

// New needs only the two stores; every other Config field has a safe
// default (HTTPS only, throttling on, one-hour access tokens). Routes
// gives each endpoint with its path, for the app's root mux.
func ExampleNew() {
	store := memory.New(memory.Config{})
	p, err := provider.New(provider.Config{
		Clients: store,
		Tokens:  store,
		Issuer:  "https://auth.example", // for the metadata document (RFC 8414)
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, rt := range p.Routes(provider.RoutePaths{}) {
		mux.Handle(rt.Path, rt.Handler)
		fmt.Println(rt.Path)
	}
	// Output:
	// /oauth2/token
	// /oauth2/revoke
	// /oauth2/introspect
	// /.well-known/oauth-authorization-server
}

// With an issuer that has a path, Routes puts the endpoints under it and
// the metadata where RFC 8414 §3 looks for it; the metadata document
// advertises the same paths.
func ExampleProvider_Routes() {
	store := memory.New(memory.Config{})
	p, err := provider.New(provider.Config{Clients: store, Tokens: store, Issuer: "https://example.com/auth"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, rt := range p.Routes(provider.RoutePaths{Introspect: provider.EndpointNotServed}) {
		mux.Handle(rt.Path, rt.Handler)
		fmt.Println(rt.Path)
	}

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://example.com/.well-known/oauth-authorization-server/auth", nil))
	var meta struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &meta); err != nil {
		log.Fatal(err)
	}
	fmt.Println(w.Code, meta.Issuer, meta.TokenEndpoint)
	// Output:
	// /auth/oauth2/token
	// /auth/oauth2/revoke
	// /.well-known/oauth-authorization-server/auth
	// 200 https://example.com/auth https://example.com/auth/oauth2/token
}

// A resource server that does not use package policy validates the
// token itself: ErrInvalidToken is the client's fault (401), any other
// error an outage (503).
func ExampleProvider_ValidateAccessToken() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		log.Fatal(err)
	}
	err = store.CreateClient(ctx, &storage.Client{ID: "backend", SecretHash: hash,
		GrantTypes: []string{storage.GrantClientCredentials}, Scopes: []string{"jobs"}})
	if err != nil {
		log.Fatal(err)
	}
	p, err := provider.New(provider.Config{Clients: store, Tokens: store})
	if err != nil {
		log.Fatal(err)
	}

	// A token for the client, from the token endpoint. httptest.NewRequest
	// marks an https URL as arriving over TLS, which the provider requires.
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"jobs"}}
	r := httptest.NewRequest(http.MethodPost, "https://auth.example/oauth2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(url.QueryEscape("backend"), url.QueryEscape(secret))
	w := httptest.NewRecorder()
	p.TokenHandler().ServeHTTP(w, r)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil {
		log.Fatal(err)
	}

	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		ti, err := p.ValidateAccessToken(r, raw)
		switch {
		case errors.Is(err, provider.ErrInvalidToken):
			w.Header().Set("WWW-Authenticate", p.BearerChallenge("invalid_token", ""))
			http.Error(w, "invalid token", http.StatusUnauthorized)
		case err != nil:
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		default:
			fmt.Fprintf(w, "client %s, scopes %v", ti.Grant.ClientID, ti.EffectiveScopes()) // not Grant.Scopes: a token may carry fewer
		}
	})
	for _, raw := range []string{tok.AccessToken, "oat_forged"} {
		r := httptest.NewRequest(http.MethodGet, "https://api.example/jobs", nil)
		r.Header.Set("Authorization", "Bearer "+raw)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 client backend, scopes [jobs]
	// 401 invalid token
}

// DisableClient stops a compromised client at once: its tokens stop
// working and it gets no new ones.
func ExampleProvider_DisableClient() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		log.Fatal(err)
	}
	err = store.CreateClient(ctx, &storage.Client{ID: "backend", SecretHash: hash,
		GrantTypes: []string{storage.GrantClientCredentials}})
	if err != nil {
		log.Fatal(err)
	}
	p, err := provider.New(provider.Config{Clients: store, Tokens: store})
	if err != nil {
		log.Fatal(err)
	}

	// requestToken asks the token endpoint for a token for the client.
	// httptest.NewRequest marks an https URL as arriving over TLS, which
	// the provider requires.
	requestToken := func() (status int, accessToken string) {
		form := url.Values{"grant_type": {"client_credentials"}}
		r := httptest.NewRequest(http.MethodPost, "https://auth.example/oauth2/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(url.QueryEscape("backend"), url.QueryEscape(secret))
		w := httptest.NewRecorder()
		p.TokenHandler().ServeHTTP(w, r)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &tok) // an error response has none
		return w.Code, tok.AccessToken
	}
	_, access := requestToken()

	n, err := p.DisableClient(ctx, "backend")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("grants revoked:", n)

	r := httptest.NewRequest(http.MethodGet, "https://api.example/jobs", nil)
	_, err = p.ValidateAccessToken(r, access)
	fmt.Println("old token:", err)
	status, _ := requestToken()
	fmt.Println("new token request:", status)
	// Output:
	// grants revoked: 1
	// old token: provider: invalid token
	// new token request: 401
}

// The Events hook receives security events, here a failed and then a
// successful password. A hook must be quick and safe for concurrent use;
// provider.LogEvents keeps the default log when a hook does more.
func ExampleConfig_events() {
	store := memory.New(memory.Config{})
	err := store.CreateClient(context.Background(), &storage.Client{ID: "cli", Public: true,
		GrantTypes: []string{storage.GrantPassword}})
	if err != nil {
		log.Fatal(err)
	}
	var users authcheck.Static
	if err := users.Add("johndoe", "foobar42", "user-1"); err != nil {
		log.Fatal(err)
	}
	p, err := provider.New(provider.Config{
		Clients: store,
		Tokens:  store,
		Users:   &users,
		Events: func(_ context.Context, e provider.Event) {
			fmt.Printf("%s %s client=%s user=%s reason=%q\n", e.Type, e.Level(), e.ClientID, e.UserID, e.Reason)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, pw := range []string{"guess", "foobar42"} {
		// A public client names itself with client_id. httptest.NewRequest
		// marks an https URL as arriving over TLS, which the provider
		// requires.
		form := url.Values{"grant_type": {"password"}, "client_id": {"cli"}, "username": {"johndoe"}, "password": {pw}}
		r := httptest.NewRequest(http.MethodPost, "https://auth.example/oauth2/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		p.TokenHandler().ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// user_auth_failed WARN client=cli user= reason="invalid username or password"
	// 400
	// token_issued INFO client=cli user=user-1 reason=""
	// 200
}
