package echooauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/oauth2provider/oauth2provider/authcheck"
	echooauth "github.com/oauth2provider/oauth2provider/contrib/echo"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// Example mounts the provider's endpoints on an Echo and protects an
// API group with the bearer policy; /api/notes also requires the "write"
// scope.
func Example() {
	store := memory.New(memory.Config{})
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		log.Fatal(err)
	}
	err = store.CreateClient(context.Background(), &storage.Client{
		ID: "demo-client", SecretHash: hash,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken},
		Scopes:     []string{"read", "write"},
	})
	if err != nil {
		log.Fatal(err)
	}
	var users authcheck.Static
	if err := users.Add("johndoe", "foobar42", "user-1"); err != nil {
		log.Fatal(err)
	}
	p, err := provider.New(provider.Config{
		Clients: store, Tokens: store, Users: &users,
		AllowInsecureHTTP: true,                                     // httptest serves plain HTTP
		Events:            func(context.Context, provider.Event) {}, // quiet
	})
	if err != nil {
		log.Fatal(err)
	}

	e := echo.New()
	echooauth.Mount(e, p, echooauth.Paths{}) // POST /oauth2/token, /oauth2/revoke, ...
	api := e.Group("/api", echooauth.Middleware(policy.Bearer(p)))
	me := func(c echo.Context) error {
		id, _ := echooauth.Identity(c)
		return c.String(http.StatusOK, "hello "+id.UserID+" via "+id.ClientID)
	}
	api.GET("/me", me)
	api.GET("/notes", me, echooauth.Middleware(policy.Require("write")))

	// A password grant for the scope "read".
	form := url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}, "scope": {"read"}}
	req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-client", secret)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil {
		log.Fatal(err)
	}

	for _, c := range []struct{ path, token string }{
		{"/api/me", ""},
		{"/api/me", tok.AccessToken},
		{"/api/notes", tok.AccessToken},
	} {
		req := httptest.NewRequest(http.MethodGet, c.path, nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		fmt.Println(strings.TrimSpace(fmt.Sprint(c.path, " ", rec.Code, " ", rec.Header().Get("WWW-Authenticate"))))
		if rec.Code == http.StatusOK {
			fmt.Println(rec.Body.String())
		}
	}
	// Output:
	// /api/me 401 Bearer realm="oauth2provider"
	// /api/me 200
	// hello user-1 via demo-client
	// /api/notes 403 Bearer realm="oauth2provider", error="insufficient_scope", scope="write"
}
