package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauth2provider/oauth2provider/storage"
)

// Compile-time checks that *Store implements the store contracts.
var (
	_ storage.ClientStore = (*Store)(nil)
	_ storage.TokenStore  = (*Store)(nil)
	_ storage.Cleaner     = (*Store)(nil)
)

// Config configures a [Store].
type Config struct {
	// Now returns the current time; expiry is judged against it, never
	// against the database server's clock. Nil means time.Now.
	Now func() time.Time
	// AsyncExchange, when true, commits each successful ExchangeToken
	// (a refresh, an authorization code's redemption) with
	// synchronous_commit off for that transaction alone: the exchange
	// returns without waiting for its WAL to reach disk, which saves the
	// commit's flush (on a server with fsync on, most of a refresh's
	// time). A crash of the database server (not of the client, and not a
	// clean shutdown) can then lose the exchanges committed in the last
	// moments before it (up to three times wal_writer_delay, 600 ms by
	// default): each such exchange is undone as a whole, so its presented
	// refresh token or code is unconsumed and usable again (once more
	// reuse detection for it), and the tokens it issued are unknown. It
	// never corrupts the database, and it never applies to revocation:
	// the revocation of a grant on reuse and RevokeGrant, RevokeUser and
	// RevokeClient always commit synchronously, as does everything else.
	// False (the zero value) commits every exchange synchronously.
	AsyncExchange bool
}

// Store keeps clients, grants and token hashes in PostgreSQL. It
// implements [storage.ClientStore], [storage.TokenStore] and
// [storage.Cleaner]. It is safe for concurrent use.
//
// The schema must have been created with [Migrate] first; New never
// migrates.
type Store struct {
	pool  *pgxpool.Pool
	now   func() time.Time
	async bool // Config.AsyncExchange
}

// New returns a Store on pool, which the caller owns and closes. The
// tables are looked up through the connections' search_path.
func New(pool *pgxpool.Pool, cfg Config) *Store {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Store{pool: pool, now: now, async: cfg.AsyncExchange}
}

// uniqueViolation is the SQLSTATE of a duplicate key.
const uniqueViolation = "23505"

// wrap returns err annotated with the operation, translating the errors
// pgx reports into the storage sentinels. The messages of the errors it
// returns never contain a token or a secret (only their hashes exist here).
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, storage.ErrNotFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		return fmt.Errorf("postgres: %s: %w", op, storage.ErrAlreadyExists)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// badText reports whether err is the server refusing a text parameter as
// no text of the database's encoding (a NUL byte, invalid UTF-8): a
// value that cannot be stored, so a lookup by it finds nothing.
func badText(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == characterNotInRepertoire || pgErr.Code == untranslatableCharacter)
}

// SQLSTATEs of text the database's encoding cannot hold.
const (
	characterNotInRepertoire = "22021"
	untranslatableCharacter  = "22P05"
)

// storable reports whether Postgres can hold s as text: valid UTF-8
// without a NUL byte. No record is stored under an ID that is not, so a
// lookup, an exchange, an update or a revocation by such an ID finds
// nothing, without asking the server (which would answer an encoding
// error that reads as an outage).
func storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// notFound returns the ErrNotFound of operation op.
func notFound(op string) error {
	return fmt.Errorf("postgres: %s: %w", op, storage.ErrNotFound)
}

// utc returns t in UTC, so that times read back do not depend on the
// time zone of the process.
func utc(t time.Time) time.Time { return t.UTC() }

// orNil returns s, or nil when s is empty: a NOT NULL array column reads
// back as an empty slice, and the records use nil for "none".
func orNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// orEmpty returns s, or an empty slice when s is nil, for NOT NULL array
// columns.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// maxSerializationRetries bounds the runs of a statement that fail to
// serialize: each failure means a concurrent exchange or revocation of
// the rows it touches committed, and there are few of those.
const maxSerializationRetries = 8

// isSerializationFailure reports whether err is PostgreSQL's
// serialization_failure (SQLSTATE 40001).
func isSerializationFailure(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40001"
}

// exec runs one statement that writes, through retrySerialization.
func (s *Store) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := retrySerialization(func() (err error) {
		tag, err = s.pool.Exec(ctx, sql, args...)
		return err
	})
	return tag, err
}

// retrySerialization runs run, one atomic statement, again when it fails
// to serialize (SQLSTATE 40001, which a default_transaction_isolation
// stricter than read committed gives a statement whose rows a concurrent
// transaction changed), at most maxSerializationRetries times in all: the
// failed run changed nothing, and the next one sees the rows as the other
// left them.
func retrySerialization(run func() error) error {
	for attempt := 1; ; attempt++ {
		err := run()
		if err == nil || attempt == maxSerializationRetries || !isSerializationFailure(err) {
			return err
		}
	}
}
