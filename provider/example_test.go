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
