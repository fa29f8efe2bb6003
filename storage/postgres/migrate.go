package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

// migrationFiles are the versioned schema migrations, applied in order of
// their number by tern.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// VersionTable is the table in which [Migrate] records the schema
// version. It is found, like the store's tables, in any schema of the
// connections' search_path, and made in the first when none has it.
const VersionTable = "oauth2_schema_version"

// Migrate brings the schema of the store up to date, in the first schema
// of the connections' search_path (but a version table found in any
// schema of the search_path counts as the store's: give the store a
// search_path of its schema alone), using a connection from pool that it
// closes afterwards (so that no session state it leaves goes back to the
// pool). It is safe to run from several processes at once: tern holds a
// PostgreSQL advisory lock while it reads and moves the version, so each
// migration is applied once. Each migration runs in its own transaction.
// Migrating an up-to-date schema does nothing, and so does migrating a
// schema that a later release migrated further (an instance of the
// previous release starting during a rolling deploy): each migration
// only adds what the release before it does not read, so that release
// works on it. When no schema of the search_path exists, the error says
// to create it (Migrate creates tables, not schemas) and wraps the
// server's (SQLSTATE 3F000).
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	conn := c.Hijack()
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	return MigrateConn(ctx, conn)
}

// MigrateConn is [Migrate] on a single connection, which it leaves open.
// If it fails, close the connection rather than reuse it: it may still
// hold the migration lock.
func MigrateConn(ctx context.Context, conn *pgx.Conn) error {
	m, err := migrate.NewMigrator(ctx, conn, VersionTable)
	if err != nil {
		return migrateError(err)
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return migrateError(err)
	}
	if err := m.LoadMigrations(sub); err != nil {
		return fmt.Errorf("postgres: migrate: load: %w", err)
	}
	// A schema ahead of this binary's migrations was migrated by a later
	// release (a rolling deploy, or a rollback of one): leave it. tern
	// would refuse it, and an instance that migrates at start-up could
	// not start. Versions only grow, so no lock is needed to see it.
	current, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return migrateError(err)
	}
	embedded := int32(len(m.Migrations)) // #nosec G115 -- the number of embedded migration files
	if current > embedded {
		return nil
	}
	if err := m.Migrate(ctx); err != nil {
		return migrateError(err)
	}
	return nil
}

// migrateError wraps a failure of MigrateConn. When err is Postgres
// saying that no schema of the search_path exists to create a table in
// (SQLSTATE 3F000, "no schema has been selected to create in", which
// names no cause), it says what to do.
func migrateError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "3F000" { // invalid_schema_name
		return fmt.Errorf(`postgres: migrate: no schema of the search_path exists: "create schema" it first: %w`, err)
	}
	return fmt.Errorf("postgres: migrate: %w", err)
}

// SchemaVersion returns the schema version recorded by [Migrate] and the
// version this package's migrations bring the schema to. The store works
// when they are equal, and during a rolling deploy on the schema of the
// next release too (current above latest: see [Migrate]). On a database
// that [Migrate] never ran on (or a search_path naming another schema) it
// returns 0, the latest version and an error wrapping [ErrNotMigrated]
// that says to run the migrations.
func SchemaVersion(ctx context.Context, pool *pgxpool.Pool) (current, latest int32, err error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	latest = int32(len(names)) // #nosec G115 -- the number of embedded migration files
	err = pool.QueryRow(ctx, `select version from `+VersionTable).Scan(&current)
	if err != nil {
		return 0, latest, wrap("schema version", err)
	}
	return current, latest, nil
}
