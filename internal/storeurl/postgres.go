package storeurl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauth2provider/oauth2provider/internal/loopback"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// openPostgres opens a pgx pool on rawURL and a postgres.Store on it.
func openPostgres(ctx context.Context, rawURL string, o Options) (*Stores, error) {
	cfg, migrateCfg, err := postgresConfig(rawURL, o)
	if err != nil {
		return nil, err
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
				return fmt.Errorf("migrate: %w", err)
			}
			defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
			return postgres.MigrateConn(ctx, conn)
		},
		schemaVersion: func(ctx context.Context) (int32, int32, error) {
			current, latest, err := postgres.SchemaVersion(ctx, pool)
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
				return 0, latest, nil // never migrated
			}
			return current, latest, err
		},
		close: pool.Close,
	}, nil
}

// postgresConfig returns the pool's configuration for rawURL and that of
// the migrations' own connection, which has no statement timeout unless
// the URL asked for one.
func postgresConfig(rawURL string, o Options) (*pgxpool.Config, *pgx.ConnConfig, error) {
	cfg, err := PoolConfig(rawURL, o.Timeout)
	if err != nil {
		return nil, nil, err
	}
	cc := cfg.ConnConfig
	if o.Timeout > 0 {
		if _, set := cc.RuntimeParams["statement_timeout"]; !set {
			cc.RuntimeParams["statement_timeout"] = strconv.FormatInt((2 * o.Timeout).Milliseconds(), 10)
		}
	}
	migrateCfg := cc.Copy()
	if _, set := urlParam(rawURL, "statement_timeout"); !set {
		delete(migrateCfg.RuntimeParams, "statement_timeout")
	}
	return cfg, migrateCfg, nil
}

// PoolConfig parses rawURL, a postgres URL, into a pool configuration
// whose connection attempts give up after connectTimeout (> 0) unless the
// URL sets connect_timeout. A URL for a host beyond the loopback
// interface without a TLS choice is [ErrTLSChoice]; one that does not
// parse is an error that quotes no part of it, and so is one that pgx
// reads with an "@" in a host or the database name (the rest of a
// password with an unescaped "/" or "@"). Open uses it, and so may
// a program that opens its own pool (examples/postgres).
func PoolConfig(rawURL string, connectTimeout time.Duration) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	// pgx ends the user information at the first "@" or "/": an
	// unescaped one in the password leaves its rest in the host or the
	// database name, which pgx's parse errors quote, and its connection
	// errors too ("database=…", "lookup …@host"). No host holds an "@",
	// nor, in practice, a database name.
	split := splitsPassword(rawURL, "/?#@")
	if err != nil {
		if split {
			return nil, errSplitPassword
		}
		return nil, withoutConnString(err)
	}
	if split && pgxSplitPassword(cfg.ConnConfig) {
		return nil, errSplitPassword
	}
	if err := requireTLSChoice(rawURL, cfg.ConnConfig); err != nil {
		return nil, err
	}
	if connectTimeout > 0 && cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	return cfg, nil
}

// pgxSplitPassword reports whether pgx read an "@" into a host or the
// database name of cc: the rest of a password it ended early.
func pgxSplitPassword(cc *pgx.ConnConfig) bool {
	if strings.Contains(cc.Host, "@") || strings.Contains(cc.Database, "@") {
		return true
	}
	for _, f := range cc.Fallbacks {
		if strings.Contains(f.Host, "@") {
			return true
		}
	}
	return false
}

// withoutConnString returns a parse error of pgx without the connection
// string it quotes: pgx masks the password there on a best-effort basis
// only, and a malformed URL (a password with an unescaped "@" and ":")
// leaves part of it in the clear. Open names the URL as Redact gives it.
func withoutConnString(err error) error {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return err
	}
	c := *pe
	c.ConnString = ""
	return &parseError{msg: strings.TrimPrefix(c.Error(), "cannot parse ``: "), err: pe.Unwrap()}
}

// parseError is a parse error of pgx without its connection string.
type parseError struct {
	msg string
	err error
}

func (e *parseError) Error() string {
	return "cannot parse the URL (percent-encode any / ? # @ : in the user name or password): " + e.msg
}
func (e *parseError) Unwrap() error { return e.err }

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

// ErrTLSChoice reports a Postgres URL for a server beyond the loopback
// interface that does not say whether to use TLS.
var ErrTLSChoice = errors.New("a postgres:// URL for a host that is not on the loopback interface must set sslmode: " +
	"verify-full to check the server's certificate, or disable to connect without TLS")

// requireTLSChoice refuses a URL whose connections could leave the machine
// without TLS (libpq's default, sslmode=prefer, falls back to plain text
// and checks no certificate) unless it chose so: with an sslmode parameter
// or PGSSLMODE. Loopback hosts and Unix sockets need no choice. An empty
// one is no choice: pgx then takes libpq's default (a compose file's
// PGSSLMODE: ${PGSSLMODE} with the variable unset).
func requireTLSChoice(rawURL string, cc *pgx.ConnConfig) error {
	if v, _ := urlParam(rawURL, "sslmode"); v != "" {
		return nil
	}
	if os.Getenv("PGSSLMODE") != "" {
		return nil
	}
	hosts := []string{cc.Host}
	for _, f := range cc.Fallbacks {
		hosts = append(hosts, f.Host)
	}
	for _, h := range hosts {
		if !strings.HasPrefix(h, "/") && !loopback.Host(h) { // "/": a Unix socket directory
			return ErrTLSChoice
		}
	}
	return nil
}
