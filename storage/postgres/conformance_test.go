package postgres_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage/postgres"
	"github.com/oauth2provider/oauth2provider/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, now func() time.Time) storagetest.Backend {
		s, pool := newStore(t, now)
		return storagetest.Backend{
			Clients: s,
			Tokens:  s,
			Dump:    func(ctx context.Context) ([]byte, error) { return dump(ctx, pool) },
		}
	})
}

// AsyncExchange changes when an exchange's commit reaches disk, nothing
// a client can see.
func TestConformance_AsyncExchange(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, now func() time.Time) storagetest.Backend {
		pool := newSchemaPool(t)
		require.NoError(t, postgres.Migrate(context.Background(), pool))
		s := postgres.New(pool, postgres.Config{Now: now, AsyncExchange: true})
		return storagetest.Backend{
			Clients: s,
			Tokens:  s,
			Dump:    func(ctx context.Context) ([]byte, error) { return dump(ctx, pool) },
		}
	})
}

// The store does not depend on how pgx sends statements: the modes that
// work behind a connection pooler in transaction mode (PgBouncer), which
// prepare nothing on the server, pass the suite too. In the simple
// protocol a statement travels as text, in which a NUL byte cannot.
func TestConformance_PoolerExecModes(t *testing.T) {
	for name, mode := range map[string]pgx.QueryExecMode{
		"SimpleProtocol": pgx.QueryExecModeSimpleProtocol,
		"Exec":           pgx.QueryExecModeExec,
	} {
		t.Run(name, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T, now func() time.Time) storagetest.Backend {
				pool := newSchemaPool(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.DefaultQueryExecMode = mode })
				require.NoError(t, postgres.Migrate(context.Background(), pool))
				s := postgres.New(pool, postgres.Config{Now: now})
				return storagetest.Backend{
					Clients: s,
					Tokens:  s,
					Dump:    func(ctx context.Context) ([]byte, error) { return dump(ctx, pool) },
				}
			})
		})
	}
}

// dump returns every row of every table of the store, one per line, in
// PostgreSQL's text form (bytea as hex).
func dump(ctx context.Context, pool *pgxpool.Pool) ([]byte, error) {
	var buf bytes.Buffer
	for _, table := range []string{"oauth2_clients", "oauth2_grants", "oauth2_tokens"} {
		rows, err := pool.Query(ctx, "select r::text from "+table+" r")
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return nil, err
			}
			buf.WriteString(table + " " + line + "\n")
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}
