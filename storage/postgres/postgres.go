package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
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
	// strict is set once a statement failed to serialize (SQLSTATE
	// 40001), which only a default_transaction_isolation stricter than
	// read committed does: from then on every statement runs in an
	// explicit read committed transaction (see readCommitted).
	strict atomic.Bool
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

// ErrNotMigrated is in the error of a store call that found none of the
// store's tables: a database whose migrations have not run, or a
// search_path naming another schema than the one migrated. The error
// says to run the migrations.
var ErrNotMigrated = errors.New("the database has no table of this store")

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
	if pgErr != nil && pgErr.Code == undefinedTable {
		// Every migration since the first adds columns only: a missing
		// table is a database never migrated, or a search_path naming
		// another schema than the one migrated.
		return fmt.Errorf("postgres: %s: %w (its migrations have not run here, or search_path names another schema): run oauth2ctl migrate (or postgres.Migrate): %w", op, ErrNotMigrated, err)
	}
	if pgErr != nil && pgErr.Code == undefinedColumn {
		// A version started before its migrations ran: say what to do,
		// next to the server's "column ... does not exist".
		return fmt.Errorf("postgres: %s: the database schema is older than this version: run oauth2ctl migrate (or postgres.Migrate): %w", op, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// SQLSTATEs of a statement naming a column or table the schema does not
// have: one older than the code's, whose migrations have not run.
const (
	undefinedColumn = "42703"
	undefinedTable  = "42P01"
)

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

// isSerializationFailure reports whether err is PostgreSQL's
// serialization_failure (SQLSTATE 40001).
func isSerializationFailure(err error) bool {
	if err == nil {
		return false // pgErr below escapes: spare its allocation on success
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40001"
}

// stricter reports whether a statement sent as it is failed with err
// because the server's default isolation is stricter than read
// committed; it then records that the store must send its statements
// through readCommitted. The failed statement changed nothing and is
// sent again that way. Until the first such failure statements go as
// they are: wrapping each costs a lookup about a fifth of its time and
// 35 allocations (benchstat, BenchmarkValidate lib=ours-postgres), for
// servers that do not need it.
func (s *Store) stricter(err error) bool {
	if !isSerializationFailure(err) {
		return false
	}
	s.strict.Store(true)
	return true
}

// readCommitted runs the statements of stmts as one read committed
// transaction, whatever the server's default_transaction_isolation, in
// one round trip (a batch of BEGIN, the statements and COMMIT), and reads
// their results with read, which may be nil (the batch's first error is
// returned then).
//
// Each statement of the store is atomic on its own and written for read
// committed: one that waits on a row lock then reads the row as the
// other transaction left it. Under a stricter default isolation the same
// statement would fail to serialize instead (SQLSTATE 40001), and under
// serializable not only when another transaction wrote its rows: the
// server tracks reads by index page, or by table, so statements on
// unrelated rows abort each other, again when run again at once. Each
// would reach a user as an outage.
func (s *Store) readCommitted(ctx context.Context, stmts *pgx.Batch, read func(pgx.BatchResults) error) error {
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(stmts.QueuedQueries)+2)}
	b.Queue(`begin isolation level read committed`)
	b.QueuedQueries = append(b.QueuedQueries, stmts.QueuedQueries...)
	b.Queue(`commit`)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	br := conn.SendBatch(ctx, b)
	if read != nil {
		_, err = br.Exec() // begin
		if err == nil {
			err = read(br)
		}
		if err == nil {
			_, err = br.Exec() // commit
		}
	}
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	if err != nil && !conn.Conn().IsClosed() && conn.Conn().PgConn().TxStatus() != 'I' {
		// A statement failed and left its transaction open (and
		// aborted): end it, so that the connection can go back to the
		// pool. If that fails too, the pool closes it on release.
		_, _ = conn.Exec(ctx, `rollback`)
	}
	return err
}

// one returns a batch of the one statement sql.
func one(sql string, args ...any) *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	return b
}

// exec runs one statement that writes: as it is, or through
// readCommitted on a server whose default isolation is stricter (see
// stricter).
func (s *Store) exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if !s.strict.Load() {
		tag, err := s.pool.Exec(ctx, sql, args...)
		if !s.stricter(err) {
			return tag, err
		}
	}
	var tag pgconn.CommandTag
	err := s.readCommitted(ctx, one(sql, args...), func(br pgx.BatchResults) (err error) {
		tag, err = br.Exec()
		return err
	})
	return tag, err
}

// queryRow runs one statement that returns a row, as exec does, and scans the row into dest (pgx.ErrNoRows when there is none).
func (s *Store) queryRow(ctx context.Context, sql string, args []any, dest ...any) error {
	if !s.strict.Load() {
		err := s.pool.QueryRow(ctx, sql, args...).Scan(dest...)
		if !s.stricter(err) {
			return err
		}
	}
	return s.readCommitted(ctx, one(sql, args...), func(br pgx.BatchResults) error {
		return br.QueryRow().Scan(dest...)
	})
}

// query runs one statement that returns rows, as exec does, and reads
// them with collect, which must consume or close them.
func (s *Store) query(ctx context.Context, sql string, args []any, collect func(pgx.Rows) error) error {
	if !s.strict.Load() {
		rows, err := s.pool.Query(ctx, sql, args...)
		if err == nil {
			err = collect(rows)
		}
		if !s.stricter(err) {
			return err
		}
	}
	return s.readCommitted(ctx, one(sql, args...), func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		return collect(rows)
	})
}
