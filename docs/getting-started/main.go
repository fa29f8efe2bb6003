// Command getting-started is the program of docs/getting-started.md: an
// OAuth 2.0 token endpoint and one protected route, in one file, with no
// services to run.
//
//	go run ./docs/getting-started
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// newServer wires the provider and returns the app's handler and the
// client's secret.
func newServer(ctx context.Context) (http.Handler, string, error) {
	// 1. A store for clients and tokens: in memory, nothing to install.
	store := memory.New(memory.Config{})

	// 2. Register the client that will ask for tokens. The store keeps
	// only a hash of its secret; show the secret once.
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		return nil, "", err
	}
	err = store.CreateClient(ctx, &storage.Client{
		ID:         "my-app",
		SecretHash: hash,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken},
		Scopes:     []string{"read", "write"},
		CreatedAt:  time.Now(), // what "oauth2ctl client list" shows
	})
	if err != nil {
		return nil, "", err
	}

	// 3. Your users. authcheck.Static is a fixed list; docs/user-database.md
	// shows how to check your own user table instead.
	var users authcheck.Static
	if err := users.Add("johndoe", "foobar42", "user-1"); err != nil {
		return nil, "", err
	}

	// 4. The provider.
	p, err := provider.New(provider.Config{
		Clients:           store,
		Tokens:            store,
		Users:             &users,
		Scopes:            []string{"read", "write"},
		DefaultScopes:     []string{"read"},
		AllowInsecureHTTP: true, // development only: plain HTTP on localhost
	})
	if err != nil {
		return nil, "", err
	}

	// 5. Routes: the token and revocation endpoints, and your API behind
	// the bearer policy.
	mux := http.NewServeMux()
	mux.Handle("POST /oauth2/token", p.TokenHandler())
	mux.Handle("POST /oauth2/revoke", p.RevokeHandler())
	mux.Handle("GET /hello", policy.Bearer(p)(http.HandlerFunc(hello)))
	return mux, secret, nil
}

// hello is a protected route: it runs only for a valid access token.
func hello(w http.ResponseWriter, r *http.Request) {
	id, _ := policy.IdentityFrom(r.Context())
	fmt.Fprintf(w, "hello, %s (scopes: %s)\n", id.UserID, strings.Join(id.Scopes, " "))
}

func main() {
	handler, secret, err := newServer(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("client_id: my-app\nclient_secret: %s\n", secret)
	srv := &http.Server{
		Addr:              "127.0.0.1:8080",
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // a slow body cannot hold a connection
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	log.Fatal(srv.ListenAndServe())
}
