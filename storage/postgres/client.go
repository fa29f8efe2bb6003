package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/oauth2provider/oauth2provider/storage"
)

const clientColumns = `id, secret_hash, grant_types, scopes, default_scopes, redirect_uris,
	public, first_party, disabled, created_at, revision`

// clientFields collects the scan targets of clientColumns and builds the
// Client from them.
type clientFields struct{ c storage.Client }

func (f *clientFields) targets() []any {
	c := &f.c
	return []any{&c.ID, &c.SecretHash, &c.GrantTypes, &c.Scopes, &c.DefaultScopes,
		&c.RedirectURIs, &c.Public, &c.FirstParty, &c.Disabled, &c.CreatedAt, &c.Revision}
}

// client returns the Client scanned, f's own (not a copy: f is not used
// again, and a copy would cost an allocation on every token request).
func (f *clientFields) client() *storage.Client {
	c := &f.c
	c.GrantTypes = orNil(c.GrantTypes)
	c.Scopes = orNil(c.Scopes)
	c.DefaultScopes = orNil(c.DefaultScopes)
	c.RedirectURIs = orNil(c.RedirectURIs)
	c.CreatedAt = utc(c.CreatedAt)
	return c
}

// scanClient reads one row of clientColumns.
func scanClient(row pgx.Row) (*storage.Client, error) {
	var f clientFields
	if err := row.Scan(f.targets()...); err != nil {
		return nil, err
	}
	return f.client(), nil
}

// GetClient returns the client with the given ID, or [storage.ErrNotFound].
// Like every statement of the store it reads committed whatever the
// server's default isolation (see queryRow): under serializable a lookup
// can fail to serialize with the writes of other clients.
func (s *Store) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	if !storable(id) {
		// No client has such an ID; asking the server would not even
		// answer an encoding error in every mode: in the simple protocol
		// (pgx.QueryExecModeSimpleProtocol) the statement is text, and
		// a NUL byte cuts it (SQLSTATE 08P01, an outage).
		return nil, notFound("get client")
	}
	var f clientFields
	err := s.queryRow(ctx, `select `+clientColumns+` from oauth2_clients where id = $1`, []any{id}, f.targets()...)
	if err != nil {
		if badText(err) { // no client has such an ID: it could not be stored
			return nil, notFound("get client")
		}
		return nil, wrap("get client", err)
	}
	return f.client(), nil
}

// CreateClient stores a new client with revision 1, or returns
// [storage.ErrAlreadyExists] when the ID is taken. It reads committed
// whatever the server's default isolation (see exec).
func (s *Store) CreateClient(ctx context.Context, c *storage.Client) error {
	if err := c.Validate(); err != nil {
		return err
	}
	_, err := s.exec(ctx, `insert into oauth2_clients (`+clientColumns+`)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)`,
		c.ID, c.SecretHash, orEmpty(c.GrantTypes), orEmpty(c.Scopes), orEmpty(c.DefaultScopes),
		orEmpty(c.RedirectURIs), c.Public, c.FirstParty, c.Disabled, c.CreatedAt)
	if err != nil {
		return wrap("create client", err)
	}
	c.Revision = 1
	return nil
}

// updateClientSQL replaces every field of client $1 and counts the write,
// if $11 is 0 or the client's revision; one statement, so the compare and
// the write are atomic (under read committed, an update that waited on a
// concurrent one's row lock compares the revision that one left). It
// returns the new revision, null when no row was updated, and whether the
// client exists, to tell a conflict from a missing client.
const updateClientSQL = `with u as (
	update oauth2_clients set
		secret_hash = $2, grant_types = $3, scopes = $4, default_scopes = $5,
		redirect_uris = $6, public = $7, first_party = $8, disabled = $9, created_at = $10,
		revision = revision + 1
	where id = $1 and ($11::bigint = 0 or revision = $11::bigint)
	returning revision
)
select (select revision from u), exists (select 1 from oauth2_clients where id = $1)`

// UpdateClient replaces every field of the stored client with the same ID
// and increments its revision, or returns [storage.ErrNotFound], or
// [storage.ErrConflict] when c.Revision is neither zero nor the stored
// revision. It is one statement (see updateClientSQL), run read committed
// whatever the server's default isolation (see queryRow).
func (s *Store) UpdateClient(ctx context.Context, c *storage.Client) error {
	const op = "update client"
	if err := c.Validate(); err != nil {
		return err
	}
	if !storable(c.ID) {
		return notFound(op)
	}
	if !clientStorable(c) {
		// Refused before the server sees it: in pgx's simple protocol a
		// NUL byte cuts the query, which the server answers as a
		// protocol violation, not as text it cannot hold.
		if !s.clientExists(ctx, c.ID) {
			return notFound(op)
		}
		return fmt.Errorf("postgres: %s: %w", op, errUnstorableText)
	}
	var (
		revision *int64
		exists   bool
	)
	err := s.queryRow(ctx, updateClientSQL, []any{
		c.ID, c.SecretHash, orEmpty(c.GrantTypes), orEmpty(c.Scopes), orEmpty(c.DefaultScopes),
		orEmpty(c.RedirectURIs), c.Public, c.FirstParty, c.Disabled, c.CreatedAt, c.Revision,
	}, &revision, &exists)
	switch {
	case err != nil:
		if badText(err) && !s.clientExists(ctx, c.ID) {
			return notFound(op) // c's text could not be stored, but there is no such client
		}
		return wrap(op, err)
	case revision != nil:
		c.Revision = *revision
		return nil
	case !exists:
		return notFound(op)
	}
	return fmt.Errorf("postgres: %s: %w", op, storage.ErrConflict)
}

// errUnstorableText refuses a client field Postgres cannot hold as text.
var errUnstorableText = errors.New("text that is not valid UTF-8, or holds a NUL byte, cannot be stored")

// clientStorable reports whether every text field of c is storable.
func clientStorable(c *storage.Client) bool {
	if !storable(c.SecretHash) {
		return false
	}
	for _, list := range [][]string{c.GrantTypes, c.Scopes, c.DefaultScopes, c.RedirectURIs} {
		for _, v := range list {
			if !storable(v) {
				return false
			}
		}
	}
	return true
}

// clientExists reports whether client id is stored; true also when that
// cannot be told (the caller then reports the error it had), but false
// when the database's encoding cannot hold id (no client has it).
func (s *Store) clientExists(ctx context.Context, id string) bool {
	var exists bool
	err := s.queryRow(ctx, `select exists (select 1 from oauth2_clients where id = $1)`, []any{id}, &exists)
	if badText(err) {
		return false
	}
	return err != nil || exists
}

// listClientsSQL reads every client, ordered by ID in byte order.
const listClientsSQL = `select ` + clientColumns + ` from oauth2_clients order by id collate "C"`

// ListClients returns every client, ordered by ID (byte order, whatever
// the database's collation). It reads committed whatever the server's
// default isolation, as queryRow does.
func (s *Store) ListClients(ctx context.Context) ([]*storage.Client, error) {
	var clients []*storage.Client
	err := s.query(ctx, listClientsSQL, nil, func(rows pgx.Rows) (err error) {
		clients, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*storage.Client, error) {
			return scanClient(r)
		})
		return err
	})
	if err != nil {
		return nil, wrap("list clients", err)
	}
	return clients, nil
}
