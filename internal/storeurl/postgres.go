package storeurl

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// openPostgres opens a pgx pool on rawURL and a postgres.Store on it.
func openPostgres(ctx context.Context, rawURL string, o Options) (*Stores, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, err // pgx redacts the password in its parse errors
	}
	cc := cfg.ConnConfig
	if o.Timeout > 0 {
		if cc.ConnectTimeout == 0 {
			cc.ConnectTimeout = o.Timeout
		}
		if _, set := cc.RuntimeParams["statement_timeout"]; !set {
			cc.RuntimeParams["statement_timeout"] = strconv.FormatInt((2 * o.Timeout).Milliseconds(), 10)
		}
	}
	// Migrations get their own connection, without a statement timeout
	// unless the URL asked for one.
	migrateCfg := cc.Copy()
	if _, set := urlParam(rawURL, "statement_timeout"); !set {
		delete(migrateCfg.RuntimeParams, "statement_timeout")
	}

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := ping(ctx, o, pool.Ping); err != nil {
		pool.Close()
		return nil, err
	}
	st := postgres.New(pool, postgres.Config{Now: o.Now})
	return &Stores{
		Backend: Postgres,
		Clients: st,
		Tokens:  st,
		Cleaner: st,
		migrate: func(ctx context.Context) error {
			conn, err := pgx.ConnectConfig(ctx, migrateCfg)
			if err != nil {
				return fmt.Errorf("storeurl: migrate: %w", err)
			}
			defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
			return postgres.MigrateConn(ctx, conn)
		},
		close: pool.Close,
	}, nil
}

// ping checks that the server answers within the timeout.
func ping(ctx context.Context, o Options, f func(context.Context) error) error {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	if err := f(ctx); err != nil {
		return fmt.Errorf("server does not answer: %w", err)
	}
	return nil
}
