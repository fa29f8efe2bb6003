package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/testclock"
	"github.com/oauth2provider/oauth2provider/internal/testenv"
	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// envURL names the environment variable with the test server's URL.
const envURL = "OAUTH2_TEST_POSTGRES_URL"

// newSchemaPool returns a pool whose connections see only a new, empty
// schema made for this test, dropped when the test ends. Each configure
// function may change the pool's config.
func newSchemaPool(t testing.TB, configure ...func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	url := testenv.Getenv(t, envURL, "set it to a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable, to run the Postgres tests")
	ctx := context.Background()
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	schema := "oauth2test_" + hex.EncodeToString(raw[:])

	admin, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "create schema "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.Exec(context.Background(), "drop schema "+schema+" cascade")
		_ = admin.Close(context.Background())
		if err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})

	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	// A startup parameter, not a SET: it survives RESET ALL, which the
	// migrator issues.
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	// The test's own sessions, in pg_stat_activity (waitForLockWaiters):
	// other packages' tests share the server.
	cfg.ConnConfig.RuntimeParams["application_name"] = schema
	cfg.MaxConns = 20
	for _, f := range configure {
		f(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	// Registered after the schema's cleanup, so it runs before it.
	t.Cleanup(pool.Close)
	return pool
}

// newClockedStore migrates pool and returns a Store on it with a fresh
// clock (newClock), and the clock.
func newClockedStore(t testing.TB, pool *pgxpool.Pool) (*postgres.Store, *clock) {
	t.Helper()
	require.NoError(t, postgres.Migrate(context.Background(), pool))
	clk := newClock()
	return postgres.New(pool, postgres.Config{Now: clk.Now}), clk
}

// newStore returns a Store on a fresh, migrated schema, with the clock now.
func newStore(t testing.TB, now func() time.Time) (*postgres.Store, *pgxpool.Pool) {
	t.Helper()
	pool := newSchemaPool(t)
	require.NoError(t, postgres.Migrate(context.Background(), pool))
	return postgres.New(pool, postgres.Config{Now: now}), pool
}

// t0 is where test clocks start: whole seconds, as Postgres keeps
// microseconds.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// clock is a controllable clock, safe for concurrent use.
type clock = testclock.Clock

// newClock returns a clock set to t0.
func newClock() *clock { return testclock.New(t0) }

// newToken returns a new token string of kind k in grant grantID and its
// record, valid for ttl from now.
func newToken(t testing.TB, k storage.TokenKind, grantID string, now time.Time, ttl time.Duration) (string, storage.Token) {
	t.Helper()
	s, ref, err := token.New(k, grantID)
	require.NoError(t, err)
	return s, storage.Token{Hash: ref.Hash, Kind: k, GrantID: grantID, IssuedAt: now, ExpiresAt: now.Add(ttl)}
}

// newGrant returns a new grant of client "c1" and user "u1", valid for a
// day from now.
func newGrant(t testing.TB, now time.Time) *storage.Grant {
	t.Helper()
	id, err := token.NewGrantID()
	require.NoError(t, err)
	return &storage.Grant{ID: id, ClientID: "c1", UserID: "u1", Scopes: []string{"read"},
		CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
}

// ref returns the TokenRef of a token record.
func ref(tk storage.Token) storage.TokenRef {
	return storage.TokenRef{GrantID: tk.GrantID, Hash: tk.Hash}
}
