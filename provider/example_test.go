package provider_test

import (
	"context"
	"encoding/json"
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
		Clients:           store,
		Tokens:            store,
		Users:             &users,
		Scopes:            []string{"read", "write"},
		AllowInsecureHTTP: true, // httptest serves plain HTTP on loopback
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oauth2/token", p.TokenHandler())
	srv := httptest.NewServer(mux)
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
	resp, err := http.DefaultClient.Do(req)
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
	mux.Handle("GET /oauth2/authorize", az)
	mux.Handle("POST /oauth2/authorize", az)
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
