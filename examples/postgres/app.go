package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// options configure the app.
type options struct {
	issuer      string // e.g. https://auth.example.com
	insecure    bool   // serve plain HTTP (development on loopback only)
	accessTTL   time.Duration
	refreshTTL  time.Duration
	now         func() time.Time // nil: time.Now
	eventLogger *slog.Logger     // nil: slog.Default()
}

// app is the example's server: the provider over Postgres, with the users
// table as its AuthChecker.
type app struct {
	handler  http.Handler
	store    *postgres.Store
	users    *Users
	provider *provider.Provider
}

// newApp migrates the schema, creates the users table and builds the
// routes. The pool is the caller's: the app never closes it.
func newApp(ctx context.Context, pool *pgxpool.Pool, o options) (*app, error) {
	// Safe from every instance at once (an advisory lock serializes it);
	// a deployment may run "oauth2ctl migrate" before starting instead.
	if err := postgres.Migrate(ctx, pool); err != nil {
		return nil, err
	}
	users, err := NewUsers(ctx, pool)
	if err != nil {
		return nil, err
	}
	store := postgres.New(pool, postgres.Config{Now: o.now})
	p, err := provider.New(provider.Config{
		Clients:           store,
		Tokens:            store,
		Users:             users,
		AccessTokenTTL:    o.accessTTL,
		RefreshTokenTTL:   o.refreshTTL,
		Scopes:            []string{"read", "write"},
		DefaultScopes:     []string{"read"},
		Issuer:            o.issuer,
		AllowInsecureHTTP: o.insecure,
		Logger:            o.eventLogger,
		Now:               o.now,
	})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	for _, rt := range p.Routes(provider.RoutePaths{}) {
		mux.Handle(rt.Path, rt.Handler)
	}
	mux.Handle("/api/me", policy.Bearer(p)(http.HandlerFunc(me)))
	return &app{handler: mux, store: store, users: users, provider: p}, nil
}

// me answers with who is calling.
func me(w http.ResponseWriter, r *http.Request) {
	id, _ := policy.IdentityFrom(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"user_id":   id.UserID,
		"client_id": id.ClientID,
		"scope":     strings.Join(id.Scopes, " "),
	})
}

// janitorBatch is how many expired records one DeleteExpired call removes.
const janitorBatch = 1000

// sweep removes every expired grant and token in batches of janitorBatch
// and returns how many records it removed.
func sweep(ctx context.Context, c storage.Cleaner) (int, error) {
	total := 0
	for {
		n, err := c.DeleteExpired(ctx, janitorBatch)
		total += n
		if err != nil {
			return total, fmt.Errorf("janitor: %w", err)
		}
		if n < janitorBatch {
			return total, nil
		}
	}
}

// janitor sweeps every interval until ctx ends. Every instance may run one:
// concurrent janitors skip each other's rows.
func janitor(ctx context.Context, c storage.Cleaner, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := sweep(ctx, c)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("janitor failed", "err", err, "removed", n)
		case n > 0:
			log.Info("janitor removed expired records", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
