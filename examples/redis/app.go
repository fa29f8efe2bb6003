package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/contrib/jsclient"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/redis"
)

// page is the browser page: a cookie login form and a JS client login.
//
//go:embed page.html
var page []byte

// webClientID is the public client of the page's JavaScript client: a
// browser cannot keep a secret (RFC 6749 §2.1).
const webClientID = "web"

// options configure the app.
type options struct {
	prefix     string // Redis key prefix; empty means redis.DefaultPrefix
	bindingKey []byte // HMAC key for token binding, ≥32 bytes; the same on every instance
	insecure   bool   // serve plain HTTP (development on loopback only)
	users      authcheck.AuthChecker
	now        func() time.Time // nil: time.Now
}

// newApp builds the Flask seed's set-up over rdb, which may be a single
// node (*goredis.Client), Sentinel or a cluster (*goredis.ClusterClient):
// tokens and browser sessions in Redis, brute-force counts shared by every
// instance through Redis, tokens and sessions bound to the client's IP and
// User-Agent, a cookie login endpoint and the JS client.
func newApp(ctx context.Context, rdb goredis.UniversalClient, o options) (http.Handler, error) {
	prefix := o.prefix
	if prefix == "" {
		prefix = redis.DefaultPrefix
	}
	store := redis.New(rdb, redis.Config{Prefix: prefix, Now: o.now})
	if err := createWebClient(ctx, store); err != nil {
		return nil, err
	}
	p, err := provider.New(provider.Config{
		Clients:           store,
		Tokens:            store,
		Users:             o.users,
		Limiter:           redis.NewLimiter(rdb, prefix+"limit:"), // shared by every instance
		BindingKey:        o.bindingKey,
		Scopes:            []string{"read", "write"},
		DefaultScopes:     []string{"read"},
		AllowInsecureHTTP: o.insecure,
		Now:               o.now,
	})
	if err != nil {
		return nil, err
	}
	sessions, err := policy.NewSessions(p, policy.SessionConfig{
		TTL:     time.Hour,
		Sliding: true, // the Flask seed renewed sessions on use
		Scopes:  []string{"read"},
	})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	for _, rt := range p.Routes(provider.RoutePaths{}) {
		mux.Handle(rt.Path, rt.Handler)
	}
	mux.Handle("POST /login", sessions.LoginHandler())
	mux.Handle("POST /logout", sessions.LogoutHandler())
	mux.Handle("GET /js/oauth_client.js", jsclient.Handler())
	mux.Handle("/api/me", policy.CookieOrBearer(sessions)(http.HandlerFunc(me)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'")
		_, _ = w.Write(page)
	})
	return mux, nil
}

// createWebClient registers the page's public client unless it exists.
func createWebClient(ctx context.Context, clients storage.ClientStore) error {
	err := clients.CreateClient(ctx, &storage.Client{
		ID:         webClientID,
		Public:     true,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken},
		Scopes:     []string{"read"},
		FirstParty: true,
		CreatedAt:  time.Now().UTC(),
	})
	if err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
		return fmt.Errorf("create client %s: %w", webClientID, err)
	}
	return nil
}

// me answers with who is calling and how.
func me(w http.ResponseWriter, r *http.Request) {
	id, _ := policy.IdentityFrom(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"user_id":   id.UserID,
		"client_id": id.ClientID,
		"scope":     strings.Join(id.Scopes, " "),
		"auth":      id.Method,
	})
}
