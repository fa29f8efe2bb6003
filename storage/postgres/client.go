package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/oauth2provider/oauth2provider/storage"
)

const clientColumns = `id, secret_hash, grant_types, scopes, default_scopes, redirect_uris,
	public, first_party, disabled, created_at`

// scanClient reads one row of clientColumns.
func scanClient(row pgx.Row) (*storage.Client, error) {
	var c storage.Client
	err := row.Scan(&c.ID, &c.SecretHash, &c.GrantTypes, &c.Scopes, &c.DefaultScopes,
		&c.RedirectURIs, &c.Public, &c.FirstParty, &c.Disabled, &c.CreatedAt)
	if err != nil {
		return nil, err
	}
	c.GrantTypes = orNil(c.GrantTypes)
	c.Scopes = orNil(c.Scopes)
	c.DefaultScopes = orNil(c.DefaultScopes)
	c.RedirectURIs = orNil(c.RedirectURIs)
	c.CreatedAt = utc(c.CreatedAt)
	return &c, nil
}

// GetClient returns the client with the given ID, or [storage.ErrNotFound].
func (s *Store) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	c, err := scanClient(s.pool.QueryRow(ctx,
		`select `+clientColumns+` from oauth2_clients where id = $1`, id))
	if err != nil {
		return nil, wrap("get client", err)
	}
	return c, nil
}

// CreateClient stores a new client, or returns [storage.ErrAlreadyExists]
// when the ID is taken.
func (s *Store) CreateClient(ctx context.Context, c *storage.Client) error {
	_, err := s.pool.Exec(ctx, `insert into oauth2_clients (`+clientColumns+`)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.ID, c.SecretHash, orEmpty(c.GrantTypes), orEmpty(c.Scopes), orEmpty(c.DefaultScopes),
		orEmpty(c.RedirectURIs), c.Public, c.FirstParty, c.Disabled, c.CreatedAt)
	return wrap("create client", err)
}

// UpdateClient replaces every field of the stored client with the same ID,
// or returns [storage.ErrNotFound].
func (s *Store) UpdateClient(ctx context.Context, c *storage.Client) error {
	tag, err := s.pool.Exec(ctx, `update oauth2_clients set
		secret_hash = $2, grant_types = $3, scopes = $4, default_scopes = $5,
		redirect_uris = $6, public = $7, first_party = $8, disabled = $9, created_at = $10
		where id = $1`,
		c.ID, c.SecretHash, orEmpty(c.GrantTypes), orEmpty(c.Scopes), orEmpty(c.DefaultScopes),
		orEmpty(c.RedirectURIs), c.Public, c.FirstParty, c.Disabled, c.CreatedAt)
	if err != nil {
		return wrap("update client", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("update client")
	}
	return nil
}

// ListClients returns every client, ordered by ID (byte order, whatever
// the database's collation).
func (s *Store) ListClients(ctx context.Context) ([]*storage.Client, error) {
	rows, err := s.pool.Query(ctx,
		`select `+clientColumns+` from oauth2_clients order by id collate "C"`)
	if err != nil {
		return nil, wrap("list clients", err)
	}
	clients, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*storage.Client, error) {
		return scanClient(r)
	})
	if err != nil {
		return nil, wrap("list clients", err)
	}
	return clients, nil
}
