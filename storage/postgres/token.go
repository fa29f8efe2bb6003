package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oauth2provider/oauth2provider/storage"
)

// grantColumns are the columns of oauth2_grants, aliased g, that
// grantFields scans.
const grantColumns = `g.id, g.client_id, g.user_id, g.username, g.scopes, g.binding, g.created_at, g.expires_at,
	g.code_redirect_uri, g.code_challenge, g.code_challenge_method`

// grantFields collects the scan targets of grantColumns and builds the
// Grant from them.
type grantFields struct {
	g                                    storage.Grant
	redirectURI, challenge, challengeMet *string
}

func (f *grantFields) targets() []any {
	return []any{&f.g.ID, &f.g.ClientID, &f.g.UserID, &f.g.Username, &f.g.Scopes, &f.g.Binding,
		&f.g.CreatedAt, &f.g.ExpiresAt, &f.redirectURI, &f.challenge, &f.challengeMet}
}

func (f *grantFields) grant() *storage.Grant {
	g := f.g
	g.Scopes = orNil(g.Scopes)
	g.CreatedAt = utc(g.CreatedAt)
	g.ExpiresAt = utc(g.ExpiresAt)
	if f.redirectURI != nil {
		g.Code = &storage.CodeBinding{RedirectURI: *f.redirectURI}
		if f.challenge != nil {
			g.Code.Challenge = *f.challenge
		}
		if f.challengeMet != nil {
			g.Code.ChallengeMethod = *f.challengeMet
		}
	}
	return &g
}

// errGrantMismatch reports a token passed to CreateGrant for another grant.
var errGrantMismatch = errors.New("token belongs to another grant")

// CreateGrant stores g with its first tokens, all or nothing, in one round
// trip. A token with an empty GrantID is stored under g.ID; one naming
// another grant is refused. The grant is stored with an expiry at least as
// late as its tokens'. A taken grant ID or token hash is
// [storage.ErrAlreadyExists].
func (s *Store) CreateGrant(ctx context.Context, g *storage.Grant, tokens ...storage.Token) error {
	expires := g.ExpiresAt
	for _, t := range tokens {
		if t.GrantID != "" && t.GrantID != g.ID {
			return fmt.Errorf("postgres: create grant: %w", errGrantMismatch)
		}
		if t.ExpiresAt.After(expires) {
			expires = t.ExpiresAt
		}
	}
	var redirectURI, challenge, challengeMethod *string
	if g.Code != nil {
		redirectURI, challenge, challengeMethod = &g.Code.RedirectURI, &g.Code.Challenge, &g.Code.ChallengeMethod
	}

	// The batch is one transaction, all rows or none, in one round trip.
	// Under a default_transaction_isolation stricter than read committed
	// the insertions of concurrent creations (whose foreign key checks
	// read the index pages the others write) often fail to serialize, and
	// a login would fail as an outage: then it runs read committed (see
	// stricter), a batch built anew (pgx does not send one twice).
	batch := func() *pgx.Batch {
		b := &pgx.Batch{}
		b.Queue(`insert into oauth2_grants (id, client_id, user_id, scopes, binding, created_at,
			expires_at, code_redirect_uri, code_challenge, code_challenge_method, username)
			values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			g.ID, g.ClientID, g.UserID, orEmpty(g.Scopes), g.Binding, g.CreatedAt,
			expires, redirectURI, challenge, challengeMethod, g.Username)
		for _, t := range tokens {
			queueInsertToken(b, g.ID, t)
		}
		return b
	}
	if !s.strict.Load() {
		if err := s.pool.SendBatch(ctx, batch()).Close(); !s.stricter(err) {
			return wrap("create grant", err)
		}
	}
	return wrap("create grant", s.readCommitted(ctx, batch(), nil))
}

// queueInsertToken queues the insertion of token t of grant grantID.
func queueInsertToken(b *pgx.Batch, grantID string, t storage.Token) {
	b.Queue(`insert into oauth2_tokens (hash, grant_id, kind, scopes, issued_at, expires_at)
		values ($1, $2, $3, $4, $5, $6)`,
		t.Hash[:], grantID, int16(t.Kind), t.Scopes, t.IssuedAt, t.ExpiresAt)
}

// lookupSQL finds a live token and its grant in one statement.
const lookupSQL = `select t.scopes, t.issued_at, t.expires_at, ` + grantColumns + `
	from oauth2_tokens t join oauth2_grants g on g.id = t.grant_id
	where t.hash = $1 and t.grant_id = $2 and t.kind = $3
	  and t.consumed_at is null and t.expires_at > $4
	  and g.revoked_at is null and g.expires_at > $4`

// LookupToken returns the live token of the given kind that ref names,
// and its grant, in one round trip. An unknown, expired, revoked or
// consumed token, or one of another kind, is [storage.ErrNotFound].
func (s *Store) LookupToken(ctx context.Context, kind storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	var (
		t  storage.Token
		gf grantFields
	)
	if !storable(ref.GrantID) {
		return nil, notFound("lookup token")
	}
	targets := append([]any{&t.Scopes, &t.IssuedAt, &t.ExpiresAt}, gf.targets()...)
	// Read committed whatever the server's default isolation (see
	// queryRow): under serializable a lookup can fail to serialize with
	// the writes of unrelated grants.
	err := s.queryRow(ctx, lookupSQL, []any{ref.Hash[:], ref.GrantID, int16(kind), s.now()}, targets...)
	if err != nil {
		return nil, wrap("lookup token", err)
	}
	t.Hash = ref.Hash
	t.Kind = kind
	t.GrantID = ref.GrantID
	t.IssuedAt = utc(t.IssuedAt)
	t.ExpiresAt = utc(t.ExpiresAt)
	return &storage.TokenInfo{Token: t, Grant: *gf.grant()}, nil
}

// extendSQL moves the expiry of a live token, and its grant's when the
// grant would end sooner, in one statement. It locks the grant's row
// before the token's, in the order of ExchangeToken and DeleteExpired (a
// grant, then its tokens by cascade), so that it cannot deadlock with
// them; and a grant revoked while it waited is seen revoked.
const extendSQL = `with g as (
		select id from oauth2_grants
		where id = $2 and revoked_at is null and expires_at > $4
		for no key update
	), t as (
		update oauth2_tokens t set expires_at = $3
		from g
		where t.hash = $1 and t.grant_id = g.id
		  and t.consumed_at is null and t.expires_at > $4
		returning t.grant_id
	)
	update oauth2_grants set expires_at = greatest(expires_at, $3)
	where id in (select grant_id from t)`

// ExtendToken moves the expiry of a live token (and of its grant, if it
// would end sooner) to expiresAt. A token that is not live is
// [storage.ErrNotFound].
func (s *Store) ExtendToken(ctx context.Context, ref storage.TokenRef, expiresAt time.Time) error {
	if !storable(ref.GrantID) {
		return notFound("extend token")
	}
	tag, err := s.exec(ctx, extendSQL, ref.Hash[:], ref.GrantID, expiresAt, s.now())
	if err != nil {
		return wrap("extend token", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("extend token")
	}
	return nil
}
