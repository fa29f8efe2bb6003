package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/testenv"
	"github.com/oauth2provider/oauth2provider/storage"
)

// With Config.AsyncExchange, a successful exchange turns synchronous_commit
// off for its own transaction, and a revocation on reuse never does;
// without it, nothing does. The statement runs here inside a transaction,
// so that the setting it leaves can be read before the commit.
func TestExchangeOneSQL_AsyncCommitOnlyOnSuccess(t *testing.T) {
	url := testenv.Getenv(t, "OAUTH2_TEST_POSTGRES_URL", "set it to a PostgreSQL URL to run the Postgres tests")
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	schema := "oauth2test_" + hex.EncodeToString(raw[:])
	_, err = admin.Exec(ctx, "create schema "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = admin.Exec(context.Background(), "drop schema "+schema+" cascade")
		_ = admin.Close(context.Background())
	})
	cfg, err := pgx.ParseConfig(url)
	require.NoError(t, err)
	cfg.RuntimeParams["search_path"] = schema // survives the migrator's RESET ALL
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	require.NoError(t, MigrateConn(ctx, conn))

	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	_, err = conn.Exec(ctx, `insert into oauth2_grants (id, client_id, created_at, expires_at) values ('g', 'c', $1, $2)`, now, now.Add(time.Hour))
	require.NoError(t, err)
	hash := func(b byte) []byte { h := make([]byte, 32); h[0] = b; return h }
	_, err = conn.Exec(ctx, `insert into oauth2_tokens (hash, grant_id, kind, issued_at, expires_at) values ($1, 'g', $2, $3, $4)`,
		hash(1), int16(storage.KindRefresh), now, now.Add(time.Hour))
	require.NoError(t, err)

	// exchange presents hash(1) in a transaction and returns the state and
	// the transaction's synchronous_commit; commit keeps what it did.
	exchange := func(async, commit bool, next byte) (state, setting string) {
		tx, err := conn.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		exp := now.Add(2 * time.Hour)
		var gf grantFields
		err = tx.QueryRow(ctx, exchangeOneSQL(1, async), hash(1), "g", int16(storage.KindRefresh), now, "c", exp, "", nil,
			hash(next), int16(storage.KindRefresh), nil, now, exp).Scan(append([]any{&state}, gf.targets()...)...)
		require.NoError(t, err)
		require.NoError(t, tx.QueryRow(ctx, `select current_setting('synchronous_commit')`).Scan(&setting))
		if commit {
			require.NoError(t, tx.Commit(ctx))
		}
		return state, setting
	}
	state, setting := exchange(false, false, 2)
	assert.Equal(t, "ok", state)
	assert.Equal(t, "on", setting, "without AsyncExchange")
	state, setting = exchange(true, true, 2)
	assert.Equal(t, "ok", state)
	assert.Equal(t, "off", setting, "a successful exchange with AsyncExchange")
	state, setting = exchange(true, false, 3)
	assert.Equal(t, "reused", state)
	assert.Equal(t, "on", setting, "the revocation on reuse")
}
