package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/testenv"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// newLatin1Store returns a Store on a new, migrated database whose
// encoding is LATIN1, dropped when t ends, through connections whose
// client encoding is UTF8: valid UTF-8 that LATIN1 cannot hold ("日本")
// reaches the server, which refuses it (SQLSTATE 22P05) rather than
// storable refusing it first. It skips t when the test role may not
// create databases, and fails it then in CI.
func newLatin1Store(t *testing.T) *postgres.Store {
	t.Helper()
	base := testenv.Getenv(t, envURL, "set it to a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable, to run the Postgres tests")
	ctx := context.Background()
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	name := "oauth2test_latin1_" + hex.EncodeToString(raw[:])
	admin, err := pgx.Connect(ctx, base)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "create database "+name+" encoding 'LATIN1' lc_collate 'C' lc_ctype 'C' template template0")
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code == "42501" { // insufficient_privilege
		_ = admin.Close(ctx)
		if testenv.InCI() { // in CI every Postgres test runs
			t.Fatalf("the test role may not create databases: %v", err)
		}
		t.Skip("the test role may not create databases")
	}
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.Exec(context.Background(), "drop database "+name+" with (force)")
		_ = admin.Close(context.Background())
		if err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = "/" + name
	cfg, err := pgxpool.ParseConfig(u.String())
	require.NoError(t, err)
	// Text goes to the server as UTF-8, which it converts to LATIN1 (in
	// the database's own encoding as client encoding, which pgx leaves
	// alone, UTF-8 bytes pass as LATIN1 text).
	cfg.ConnConfig.RuntimeParams["client_encoding"] = "UTF8"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close) // before the drop
	require.NoError(t, postgres.Migrate(ctx, pool))
	return postgres.New(pool, postgres.Config{})
}

// In a database whose encoding cannot hold some valid UTF-8, such text
// is refused by the server (SQLSTATE 22P05, untranslatable_character),
// not by the store's own check (storable), which admits it. No client
// can be stored under such an ID, so looking one up finds nothing, as for
// any other missing client, rather than failing as an outage would; an
// update that would store such text is refused, as ErrNotFound when the
// client does not exist, and as an error that says neither "not found"
// nor "conflict" when it does.
func TestClients_TextTheDatabaseEncodingCannotHold(t *testing.T) {
	s := newLatin1Store(t)
	ctx := context.Background()
	const untranslatable = "日本"
	require.NoError(t, s.CreateClient(ctx, &storage.Client{ID: "c1", Public: true, CreatedAt: time.Now()}))

	_, err := s.GetClient(ctx, untranslatable)
	assert.ErrorIs(t, err, storage.ErrNotFound, "get client")

	err = s.UpdateClient(ctx, &storage.Client{ID: "nosuch", Public: true, Scopes: []string{untranslatable}})
	assert.ErrorIs(t, err, storage.ErrNotFound, "update of a missing client")

	c, err := s.GetClient(ctx, "c1")
	require.NoError(t, err)
	c.Scopes = []string{untranslatable}
	err = s.UpdateClient(ctx, c)
	require.Error(t, err, "update of a stored client")
	assert.NotErrorIs(t, err, storage.ErrNotFound)
	assert.NotErrorIs(t, err, storage.ErrConflict)
	c, err = s.GetClient(ctx, "c1")
	require.NoError(t, err)
	assert.Nil(t, c.Scopes, "nothing was stored")
	assert.Equal(t, int64(1), c.Revision)
}

// An ID that the database's encoding cannot hold names no record, as one
// that storable refuses does: an update of a client under it is
// ErrNotFound, and a revocation by it ends nothing and is no error. They
// failed with the server's encoding error (SQLSTATE 22P05), as an outage
// would, while GetClient of the same ID was ErrNotFound.
func TestIDsTheDatabaseEncodingCannotHoldNameNothing(t *testing.T) {
	s := newLatin1Store(t)
	ctx := context.Background()
	const untranslatable = "日本"

	err := s.UpdateClient(ctx, &storage.Client{ID: untranslatable, Public: true})
	assert.ErrorIs(t, err, storage.ErrNotFound, "update client")
	assert.NoError(t, s.RevokeGrant(ctx, untranslatable), "revoke grant")
	n, err := s.RevokeUser(ctx, untranslatable)
	assert.NoError(t, err, "revoke user")
	assert.Zero(t, n)
	n, err = s.RevokeClient(ctx, untranslatable)
	assert.NoError(t, err, "revoke client")
	assert.Zero(t, n)
}
