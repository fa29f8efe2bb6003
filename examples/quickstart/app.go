package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/storeurl"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

type options struct {
	addr                  string
	store                 string
	accessTTL, refreshTTL time.Duration
	bind                  bool
	loopback              bool // plain HTTP allowed: the server listens on loopback only
	now                   func() time.Time
}

// Demo fixtures, created idempotently in whatever store is used.
const (
	demoUser     = "johndoe"
	demoPassword = "foobar42"
	demoUserID   = "1"
)

var demoClients = []struct{ id, secret string }{
	{"demo-client", "demo-secret"},
	{"other-client", "other-secret"},
}

type app struct {
	handler http.Handler
	closers []func()
	limiter storage.Limiter // shared brute-force limiter of -store redis; nil: the provider's in-memory one
}

func (a *app) Handler() http.Handler { return a.handler }

func (a *app) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// stores opens the store named by -store. For a postgres:// URL it applies
// the schema migrations first: the quickstart is a development tool, so
// migrating at start-up is fine here (a production app migrates at deploy
// time with oauth2ctl migrate). See internal/storeurl for the URL forms,
// e.g. ?search_path=<schema> for Postgres and ?prefix=<key prefix> for Redis.
func (a *app) stores(ctx context.Context, o options) (storage.ClientStore, storage.TokenStore, error) {
	if o.store == "memory" {
		s := memory.New(memory.Config{Now: o.now})
		return s, s, nil
	}
	s, err := storeurl.Open(ctx, o.store, storeurl.Options{Now: o.now})
	if errors.Is(err, storeurl.ErrUnsupported) {
		return nil, nil, fmt.Errorf("-store %s: want memory, postgres://… or redis://…", storeurl.Redact(o.store))
	}
	if err != nil {
		return nil, nil, err
	}
	a.closers = append(a.closers, s.Close)
	a.limiter = s.Limiter // Redis: shared by every instance; Postgres: nil
	if err := s.Migrate(ctx); err != nil {
		return nil, nil, err
	}
	return s.Clients, s.Tokens, nil
}

func newApp(ctx context.Context, o options) (*app, error) {
	a := &app{}
	clients, tokens, err := a.stores(ctx, o)
	if err != nil {
		a.Close()
		return nil, err
	}
	if err := createFixtures(ctx, clients); err != nil {
		a.Close()
		return nil, err
	}
	if err := createSPAClient(ctx, clients); err != nil {
		a.Close()
		return nil, err
	}
	var users authcheck.Static
	if err := users.Add(demoUser, demoPassword, demoUserID); err != nil {
		a.Close()
		return nil, err
	}
	// Off loopback the quickstart serves plain HTTP, on which the
	// endpoints issue nothing: it has no issuer there, since an http
	// issuer needs AllowInsecureHTTP.
	issuer := ""
	if o.loopback {
		issuer = "http://" + o.addr
	}
	p, err := provider.New(provider.Config{
		Clients:           clients,
		Tokens:            tokens,
		Users:             &users,
		AccessTokenTTL:    o.accessTTL,
		RefreshTokenTTL:   o.refreshTTL,
		Scopes:            []string{"read", "write"},
		DefaultScopes:     []string{"read"},
		Issuer:            issuer,
		AllowInsecureHTTP: o.loopback,
		BindingKey:        bindingKey(o),
		Limiter:           a.limiter,
		// On Redis or Postgres, a refresh by a client with a generated
		// secret (oauth2ctl's) or a public one (the SPA) costs one round
		// trip (docs/scaling.md, "Caching clients"); the memory store
		// ignores it.
		ClientCacheTTL: 5 * time.Second,
		Endpoints:      provider.Endpoints{Authorization: authorizePath},
		Now:            o.now,
	})
	if err != nil {
		a.Close()
		return nil, err
	}

	mux := http.NewServeMux()
	for _, rt := range p.Routes(provider.RoutePaths{}) {
		mux.Handle(rt.Path, rt.Handler)
	}
	cookieOrBearer, err := mountBrowser(mux, p)
	if err != nil {
		a.Close()
		return nil, err
	}
	mux.Handle("GET /api/me", cookieOrBearer(http.HandlerFunc(me)))
	mux.Handle("POST /api/me", cookieOrBearer(http.HandlerFunc(me)))
	a.handler = mux
	return a, nil
}

func createFixtures(ctx context.Context, clients storage.ClientStore) error {
	for _, c := range demoClients {
		hash, err := storage.HashSecret(c.secret)
		if err != nil {
			return err
		}
		err = clients.CreateClient(ctx, &storage.Client{
			ID:         c.id,
			SecretHash: hash,
			GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken, storage.GrantClientCredentials},
			Scopes:     []string{"read", "write"},
			CreatedAt:  time.Now(),
		})
		if err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
			return fmt.Errorf("create client %s: %w", c.id, err)
		}
	}
	return nil
}

// me answers GET|POST /api/me with who is calling.
func me(w http.ResponseWriter, r *http.Request) {
	id, ok := policy.IdentityFrom(r.Context())
	if !ok {
		http.Error(w, "no identity", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"user_id":   id.UserID,
		"client_id": id.ClientID,
		"scope":     strings.Join(id.Scopes, " "),
		"auth":      id.Method,
	})
}

func printBanner(w io.Writer, base string, o options) {
	store := o.store
	if store != "memory" {
		store = storeurl.Redact(store) // a URL's password is never printed
	}
	fmt.Fprintf(w, `oauth2provider quickstart on %s (store: %s)

  user:    %s / %s
  clients: demo-client / demo-secret, other-client / other-secret
  scopes:  read, write
  browser: open %s/ to log in with the JS client (demo-spa) or a session cookie

Get a token:
  curl -s -u demo-client:demo-secret -d grant_type=password -d username=%s -d password=%s -d scope=read %s/oauth2/token
Call the API with it:
  curl -s -H "Authorization: Bearer <access_token>" %s/api/me
Refresh it:
  curl -s -u demo-client:demo-secret -d grant_type=refresh_token -d refresh_token=<refresh_token> %s/oauth2/token
Client credentials:
  curl -s -u demo-client:demo-secret -d grant_type=client_credentials %s/oauth2/token
Authorization code with PKCE (public client demo-spa, redirect URI http://127.0.0.1:8081/callback):
  go run ./examples/authcode -issuer %s

`, base, store, demoUser, demoPassword, base, demoUser, demoPassword, base, base, base, base, base)
}
