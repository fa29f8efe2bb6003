package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/oauth2provider/oauth2provider/storage"
)

// exchangeSQL finds the presented token and its grant and locks both rows
// until the transaction ends: a concurrent exchange of the same token
// waits here, then sees the token consumed. The grant's row is locked
// first, in the order of DeleteExpired (a grant, then its tokens by
// cascade): in the other order the two deadlock on a dead grant.
const exchangeSQL = `select t.expires_at, t.consumed_at, g.revoked_at, g.last_consumed_at, ` + grantColumns + `
	from oauth2_tokens t join oauth2_grants g on g.id = t.grant_id
	where t.hash = $1 and t.grant_id = $2 and t.kind = $3
	for update of g, t`

// ExchangeToken consumes the presented single-use token and stores the new
// ones in one transaction; of concurrent exchanges of one token exactly
// one succeeds (but for those within x.ReuseGrace, which all do), because
// each locks the token row before it decides.
//
// An unknown, expired or revoked token, one of another kind, or a grant of
// another client is [storage.ErrNotFound] and changes nothing. A consumed
// token, until it expires, is reuse: the grant is revoked (and that is
// committed) before [storage.ErrTokenReused] is returned; a consumed token
// of a grant revoked already is reuse too, so that every loser of a race
// of exchanges learns of it. The exception is x.ReuseGrace: a refresh
// token consumed less than that long ago, of a grant not revoked and
// none of whose tokens was consumed after it, is exchanged as a live
// one, and keeps the instant of its first consumption (see graceCutoff). An error from x.Check is returned
// as is and changes nothing. A taken hash among x.Issue is
// [storage.ErrAlreadyExists] and changes nothing. The grant's expiry is
// moved to the latest expiry of the new tokens when that is later, and an
// unbound grant is bound to x.Bind when it is set, in the same
// transaction (or statement).
//
// Without x.Check the exchange is one statement (one round trip); with
// it, a transaction: x.Check runs inside it while the token and grant rows
// are locked, so it must be quick and must not call the store, or it waits
// on its own locks.
func (s *Store) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	const op = "exchange token"
	if (x.Kind != storage.KindRefresh && x.Kind != storage.KindCode) || !storable(x.Presented.GrantID) || !storable(x.ClientID) {
		return nil, notFound(op)
	}
	now := s.now()
	if x.Check == nil {
		return s.exchangeOne(ctx, x, now)
	}

	// Read committed whatever the server's default_transaction_isolation:
	// an exchange that waited on the row lock must then read the row as
	// the winner left it (consumed), not fail to serialize.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return nil, wrap(op, err)
	}
	// Rollback after Commit is a no-op; on every early return it ends
	// the transaction without changes. Its error adds nothing. It is
	// bounded by ctx like the rest: when it cannot finish in time pgx
	// closes the connection, and the server then aborts the transaction
	// and drops its locks, while waiting without a deadline on a server
	// that stopped answering would hang the caller.
	defer func() { _ = tx.Rollback(ctx) }()

	var (
		tokenExpires            time.Time
		consumed, revoked, last *time.Time
		gf                      grantFields
	)
	targets := append([]any{&tokenExpires, &consumed, &revoked, &last}, gf.targets()...)
	err = tx.QueryRow(ctx, exchangeSQL, x.Presented.Hash[:], x.Presented.GrantID, int16(x.Kind)).Scan(targets...)
	if err != nil {
		return nil, wrap(op, err)
	}
	g := gf.grant()
	if !tokenExpires.After(now) || !g.ExpiresAt.After(now) || g.ClientID != x.ClientID {
		return nil, notFound(op)
	}

	// Within the grace: judged as the one statement does (consumed_at >
	// the cutoff), the stored microseconds against the cutoff's
	// nanoseconds, which for a whole number of microseconds is the same
	// as against the cutoff truncated, as pgx sends it.
	cutoff := graceCutoff(x, now)
	grace := consumed != nil && revoked == nil && cutoff != nil && consumed.After(*cutoff)
	if grace {
		// Only here (the token consumed, within the grace): whether the
		// chain moved on, a token of the grant consumed after this one.
		// Read after the grant's lock was taken, in a statement of its
		// own (read committed: a snapshot of its own), so it sees every
		// exchange of the grant that committed before, the one this one
		// may have waited on too.
		var movedOn bool
		err := tx.QueryRow(ctx, `select exists (select 1 from oauth2_tokens
			where grant_id = $1 and consumed_at > $2)`, g.ID, *consumed).Scan(&movedOn)
		if err != nil {
			return nil, wrap(op, err)
		}
		grace = !movedOn
	}
	if consumed != nil && !grace {
		// Reuse (RFC 9700 §4.14.2): end the grant, and make it stick. A
		// consumed token stays reuse until it expires, revoked grant or
		// not, so that every loser of a race learns of the reuse.
		if revoked == nil {
			if _, err := tx.Exec(ctx, `update oauth2_grants set revoked_at = $2 where id = $1`, g.ID, now); err != nil {
				return nil, wrap(op, err)
			}
			if err := tx.Commit(ctx); err != nil {
				return nil, wrap(op, err)
			}
		}
		return nil, wrap(op, reused(g))
	}
	if revoked != nil {
		return nil, notFound(op)
	}

	// Check is shown a copy (storage.Exchange): what it does to it must
	// not reach the grant ID the new tokens are stored under, nor the
	// grant returned.
	view := *g
	view.Scopes = slices.Clone(g.Scopes)
	if g.Code != nil {
		c := *g.Code
		view.Code = &c
	}
	if err := x.Check(&view); err != nil { // not nil: see the top
		return nil, err
	}

	b := &pgx.Batch{}
	// at is the consumption's instant, which the grant records too; nil
	// when nothing is consumed.
	var at *time.Time
	if consumed == nil { // within the grace it stays consumed when it first was: the grace never slides
		c := consumedAt(now, last)
		at = &c
		b.Queue(`update oauth2_tokens set consumed_at = $2 where hash = $1`, x.Presented.Hash[:], c)
	}
	expires := g.ExpiresAt
	for _, t := range x.Issue {
		queueInsertToken(b, g.ID, t)
		if t.ExpiresAt.After(expires) {
			expires = t.ExpiresAt
		}
	}
	// The grant's row is locked: its binding read above is still the
	// stored one.
	bind := x.Bind != "" && g.Binding == ""
	if bind {
		g.Binding = x.Bind
	}
	if expires.After(g.ExpiresAt) || bind || at != nil {
		b.Queue(`update oauth2_grants set expires_at = $2, binding = $3,
			last_consumed_at = coalesce($4::timestamptz, last_consumed_at) where id = $1`, g.ID, expires, g.Binding, at)
		g.ExpiresAt = utc(expires)
	}
	if s.async { // Config.AsyncExchange: this commit only; part of the batch's round trip
		b.Queue(`select set_config('synchronous_commit', 'off', true)`)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, wrap(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, wrap(op, err)
	}
	return g, nil
}
