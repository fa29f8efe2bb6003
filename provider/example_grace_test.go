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
	"time"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// With RefreshReuseGrace, a client that sent a refresh and never got the
// answer (the connection dropped) tries again with the refresh token it
// still holds, and gets a new pair instead of losing its session. Without
// it, that second presentation is reuse, which revokes the grant.
func ExampleConfig_refreshReuseGrace() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		log.Fatal(err)
	}
	err = store.CreateClient(ctx, &storage.Client{ID: "app", SecretHash: hash,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken}})
	if err != nil {
		log.Fatal(err)
	}
	var users authcheck.Static
	if err := users.Add("alice", "correct horse", "user-1"); err != nil {
		log.Fatal(err)
	}
	p, err := provider.New(provider.Config{Clients: store, Tokens: store, Users: &users,
		RefreshReuseGrace: 30 * time.Second})
	if err != nil {
		log.Fatal(err)
	}

	// token posts form to the token endpoint as the client, and returns
	// the status and the refresh token of the answer, if any.
	token := func(form url.Values) (int, string) {
		r := httptest.NewRequest(http.MethodPost, "https://auth.example/oauth2/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("app", url.QueryEscape(secret))
		w := httptest.NewRecorder()
		p.TokenHandler().ServeHTTP(w, r)
		var tok struct {
			RefreshToken string `json:"refresh_token"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &tok)
		return w.Code, tok.RefreshToken
	}
	_, rt := token(url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"correct horse"}})
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}

	status, _ := token(refresh) // this answer is lost on the way
	fmt.Println("first refresh:", status)
	status, next := token(refresh) // the client tries again with rt
	fmt.Println("the same refresh token again:", status)
	status, _ = token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next}})
	fmt.Println("the new refresh token:", status)
	status, _ = token(refresh) // the client had its answer: now rt is reuse
	fmt.Println("rt once more:", status)
	// Output:
	// first refresh: 200
	// the same refresh token again: 200
	// the new refresh token: 200
	// rt once more: 400
}
