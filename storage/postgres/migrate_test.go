package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/gate"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

func TestMigrate_ConcurrentMigratorsApplyEachMigrationOnce(t *testing.T) {
	pool := newSchemaPool(t)
	ctx := context.Background()

	errs := gate.AtOnce(8, func(int) error { return postgres.Migrate(ctx, pool) })
	for i, err := range errs {
		require.NoError(t, err, "migrator %d", i)
	}

	current, latest, err := postgres.SchemaVersion(ctx, pool)
	require.NoError(t, err)
	assert.Equal(t, latest, current)
	assert.GreaterOrEqual(t, latest, int32(1))

	var versionRows int
	require.NoError(t, pool.QueryRow(ctx, "select count(*) from "+postgres.VersionTable).Scan(&versionRows))
	assert.Equal(t, 1, versionRows, "one version row")

	// The schema works, and migrating again changes nothing.
	s := postgres.New(pool, postgres.Config{})
	require.NoError(t, s.CreateClient(ctx, &storage.Client{ID: "c1", Public: true, CreatedAt: time.Now()}))
	require.NoError(t, postgres.Migrate(ctx, pool))
	_, err = s.GetClient(ctx, "c1")
	assert.NoError(t, err)
}

func TestNew_DoesNotMigrate(t *testing.T) {
	pool := newSchemaPool(t)
	s := postgres.New(pool, postgres.Config{})

	_, err := s.GetClient(context.Background(), "c1")
	require.Error(t, err)
	assert.NotErrorIs(t, err, storage.ErrNotFound, "a missing table is an outage, not a missing client")
	_, _, err = postgres.SchemaVersion(context.Background(), pool)
	assert.Error(t, err, "no version table before Migrate")
}

// SchemaVersion is the start-up check the package doc suggests: on a
// database its migrations never ran on (or a search_path naming another
// schema) its error says so and what to do, as a store call's does
// (ErrNotMigrated, "run oauth2ctl migrate"), rather than pass on
// Postgres's bare 'relation "oauth2_schema_version" does not exist'. It
// still reports version 0 and the latest, and keeps the PgError.
func TestSchemaVersionOnAnUnmigratedDatabaseSaysMigrate(t *testing.T) {
	current, latest, err := postgres.SchemaVersion(context.Background(), newSchemaPool(t))
	require.Error(t, err)
	assert.ErrorIs(t, err, postgres.ErrNotMigrated)
	assert.Contains(t, err.Error(), "postgres: schema version: the database has no table of this store")
	assert.Contains(t, err.Error(), "run oauth2ctl migrate (or postgres.Migrate)")
	assert.Zero(t, current)
	assert.Positive(t, latest)
	var pe *pgconn.PgError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "42P01", pe.Code)
}

// Clients stored before migration 003 read as revision 1 once it ran, and
// updates compare and count from there.
func TestMigrate_ExistingClientsStartAtRevision1(t *testing.T) {
	pool := newSchemaPool(t)
	ctx := context.Background()

	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	m, err := migrate.NewMigrator(ctx, conn.Conn(), postgres.VersionTable)
	require.NoError(t, err)
	require.NoError(t, m.LoadMigrations(os.DirFS("migrations")))
	require.NoError(t, m.MigrateTo(ctx, 2))
	conn.Release()
	oldHash := storage.HashGeneratedSecret("old")
	_, err = pool.Exec(ctx, `insert into oauth2_clients (id, secret_hash, created_at) values ('old', $1, now())`, oldHash)
	require.NoError(t, err)

	require.NoError(t, postgres.Migrate(ctx, pool))
	s := postgres.New(pool, postgres.Config{})
	c, err := s.GetClient(ctx, "old")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Revision)

	stale := *c
	c.Disabled = true
	require.NoError(t, s.UpdateClient(ctx, c))
	assert.Equal(t, int64(2), c.Revision)
	stale.SecretHash = storage.HashGeneratedSecret("other")
	assert.ErrorIs(t, s.UpdateClient(ctx, &stale), storage.ErrConflict)
	got, err := s.GetClient(ctx, "old")
	require.NoError(t, err)
	assert.True(t, got.Disabled)
	assert.Equal(t, oldHash, got.SecretHash)
	assert.Equal(t, int64(2), got.Revision)
}

// During a rolling deploy an instance of the previous release starts (or
// restarts) after a newer one migrated: the schema is ahead of the
// migrations it knows. Migrations only add what the previous release does
// not read, so it must start and work, not fail to migrate.
func TestMigrate_SchemaNewerThanBinaryIsLeftAlone(t *testing.T) {
	pool := newSchemaPool(t)
	ctx := context.Background()
	require.NoError(t, postgres.Migrate(ctx, pool))
	_, latest, err := postgres.SchemaVersion(ctx, pool)
	require.NoError(t, err)
	// A later release's migration ran.
	_, err = pool.Exec(ctx, `alter table oauth2_grants add column later text`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `update `+postgres.VersionTable+` set version = $1`, latest+1)
	require.NoError(t, err)

	require.NoError(t, postgres.Migrate(ctx, pool), "the previous release migrates at start-up")

	current, _, err := postgres.SchemaVersion(ctx, pool)
	require.NoError(t, err)
	assert.Equal(t, latest+1, current, "the newer schema is left as it is")
	var n int
	require.NoError(t, pool.QueryRow(ctx, `select count(*) from information_schema.columns where table_name = 'oauth2_grants' and column_name = 'later' and table_schema = current_schema()`).Scan(&n))
	assert.Equal(t, 1, n, "nothing of the newer schema is dropped")
	s := postgres.New(pool, postgres.Config{})
	require.NoError(t, s.CreateClient(ctx, &storage.Client{ID: "c1", Public: true, CreatedAt: time.Now()}))
}

// Migrate closes the connection it took from the pool (it hijacks it, so
// that no session state it leaves goes back to the pool): each call must
// not leave a server connection open.
func TestMigrate_ClosesItsConnection(t *testing.T) {
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	app := "oauth2test_migrate_" + hex.EncodeToString(raw[:])
	pool := newSchemaPool(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.RuntimeParams["application_name"] = app })
	ctx := context.Background()
	for range 3 {
		require.NoError(t, postgres.Migrate(ctx, pool))
	}
	assert.Eventually(t, func() bool {
		var n int32
		require.NoError(t, pool.QueryRow(ctx, `select count(*) from pg_stat_activity where application_name = $1`, app).Scan(&n))
		return n == pool.Stat().TotalConns()
	}, 5*time.Second, 10*time.Millisecond, "server connections of the pool's beyond those it holds")
}

// A migration that fails is reported, not taken for an up-to-date schema.
func TestMigrate_ReportsAFailedMigration(t *testing.T) {
	pool := newSchemaPool(t)
	ctx := context.Background()
	// A table of the app's own in the way of the first migration.
	_, err := pool.Exec(ctx, `create table oauth2_grants (id int)`)
	require.NoError(t, err)
	assert.Error(t, postgres.Migrate(ctx, pool))
	current, _, err := postgres.SchemaVersion(ctx, pool)
	require.NoError(t, err)
	assert.Zero(t, current, "no migration recorded as applied")
}

// Each migration's down part (tern's "---- create above / drop below ----",
// for an operator who rolls the schema back with tern) undoes its up
// part: from the latest version, down to each earlier one, the schema
// migrates up again.
func TestMigrate_DownMigrationsUndoTheirUpParts(t *testing.T) {
	pool := newSchemaPool(t)
	ctx := context.Background()
	require.NoError(t, postgres.Migrate(ctx, pool))
	_, latest, err := postgres.SchemaVersion(ctx, pool)
	require.NoError(t, err)
	for v := latest - 1; v >= 0; v-- {
		conn, err := pool.Acquire(ctx)
		require.NoError(t, err)
		m, err := migrate.NewMigrator(ctx, conn.Conn(), postgres.VersionTable)
		require.NoError(t, err)
		require.NoError(t, m.LoadMigrations(os.DirFS("migrations")))
		err = m.MigrateTo(ctx, v)
		conn.Release()
		require.NoError(t, err, "down to %d", v)
		if v == 0 {
			var tables int
			require.NoError(t, pool.QueryRow(ctx, `select count(*) from information_schema.tables
				where table_schema = current_schema() and table_name like 'oauth2\_%' and table_name <> $1`, postgres.VersionTable).Scan(&tables))
			assert.Zero(t, tables, "tables left at version 0")
		}
		require.NoError(t, postgres.Migrate(ctx, pool), "up again from %d", v)
	}
	s := postgres.New(pool, postgres.Config{})
	require.NoError(t, s.CreateClient(ctx, &storage.Client{ID: "c1", Public: true, CreatedAt: time.Now()}))
}

// Migrate leaves the pool's connections as the pool's AfterConnect made
// them: tern resets the session of the connection it migrates on (RESET
// ALL), which therefore never goes back to the pool.
func TestMigrate_LeavesThePoolsSessionsAlone(t *testing.T) {
	pool := newSchemaPool(t, func(cfg *pgxpool.Config) {
		cfg.MaxConns = 1
		cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, `set statement_timeout = '12345ms'`)
			return err
		}
	})
	ctx := context.Background()
	require.NoError(t, postgres.Migrate(ctx, pool))
	var timeout string
	require.NoError(t, pool.QueryRow(ctx, `show statement_timeout`).Scan(&timeout))
	assert.Equal(t, "12345ms", timeout)
}

// Migrate into a search_path none of whose schemas exists fails in
// Postgres's words, "no schema has been selected to create in", which
// names no cause; the error says to create the schema, and still wraps
// the server's error.
func TestMigrate_IntoAMissingSchemaSaysCreateIt(t *testing.T) {
	pool := newSchemaPool(t, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.RuntimeParams["search_path"] = "oauth2test_no_such_schema"
	})
	err := postgres.Migrate(context.Background(), pool)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no schema of the search_path exists: "create schema" it first`)
	var pe *pgconn.PgError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "3F000", pe.Code)
}

// A version deployed before its migrations ran (the schema one behind)
// answers each refresh with an error that says what to do, not only
// Postgres's "column ... does not exist", which the provider logs with
// its 503; the PgError is still there.
func TestExchangeOnAnOlderSchemaSaysMigrate(t *testing.T) {
	st, pool := newStore(t, func() time.Time { return t0 })
	ctx := context.Background()
	g := newGrant(t, t0)
	_, rt := newToken(t, storage.KindRefresh, g.ID, t0, time.Hour)
	require.NoError(t, st.CreateGrant(ctx, g, rt))
	_, err := pool.Exec(ctx, "alter table oauth2_grants drop column last_consumed_at")
	require.NoError(t, err)
	_, next := newToken(t, storage.KindRefresh, g.ID, t0, time.Hour)
	_, err = st.ExchangeToken(ctx, storage.Exchange{Presented: ref(rt), Kind: storage.KindRefresh,
		ClientID: g.ClientID, Issue: []storage.Token{next}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the database schema is older than this version: run oauth2ctl migrate (or postgres.Migrate)")
	var pe *pgconn.PgError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "42703", pe.Code)
	assert.NotErrorIs(t, err, storage.ErrNotFound)
}

// A store on a database its migrations never ran on (or a search_path
// naming another schema) says that its tables are missing and to
// migrate, not that the schema is older than this version, which reads
// as a migration of an earlier release; the PgError is still there.
func TestStoreOnAnUnmigratedDatabaseSaysMigrate(t *testing.T) {
	st := postgres.New(newSchemaPool(t), postgres.Config{})
	_, err := st.ListClients(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, postgres.ErrNotMigrated)
	assert.Contains(t, err.Error(), "the database has no table of this store (its migrations have not run here, or search_path names another schema): run oauth2ctl migrate (or postgres.Migrate)")
	assert.NotContains(t, err.Error(), "older than this version")
	var pe *pgconn.PgError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "42P01", pe.Code)
}
