package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
)

// exchangeOneSQL returns the statement that exchanges a token without a
// Check for n new tokens, in one round trip. Its parameters: $1 hash, $2
// grant ID, $3 kind, $4 now, $5 client ID, $6 the grant's new expiry (at
// least the latest of the new tokens'), $7 the binding to set on an
// unbound grant (Exchange.Bind; empty: none), $8 the reuse grace's cutoff
// (graceCutoff; null: no grace), then five per new token (hash, kind,
// scopes, issued, expires).
//
// CTE t locks the presented token and its grant, the grant first as in
// ExchangeToken's transaction (FOR UPDATE: a concurrent
// exchange of the same token waits there, then reads the row as that one
// left it, consumed); s judges it as ExchangeToken does; c is the instant
// a consumption records (consumedAt); the data-modifying
// CTEs act on the judgement: a consumed token revokes the grant, a live one
// is consumed, the new tokens are inserted and the grant's expiry moved
// and, when it is unbound, its binding set. A token consumed after the
// cutoff $8, of a grant not revoked, is within the reuse grace unless a
// token of the grant was consumed after it (the chain moved on: the
// client had its answer): judged 'ok' as a live one, with everything a
// live one gets but the consumption (it keeps its first consumption's
// instant). That last test is the only one that reads other rows (by the
// index on grant_id), and CASE evaluates it only for a consumed token
// within the grace: a live token's exchange never runs it. It reads the
// tokens as of the statement's start, which misses a consumption that a
// concurrent exchange of the grant commits while this one waits on the
// grant's lock: the two overlapped, and the outcome is that of this one
// first (it consumes nothing, and what it writes the other does not
// read). ExchangeToken's transaction, whose statements each read anew,
// sees it. A taken hash among the new tokens fails the whole statement.
//
// With async, a successful exchange also sets synchronous_commit off for
// its own transaction (Config.AsyncExchange); a revocation on reuse never
// does.
func exchangeOneSQL(n int, async bool) string {
	a := 0
	if async {
		a = 1
	}
	if n < len(exchangeOneSQLs[a]) {
		return exchangeOneSQLs[a][n]
	}
	return buildExchangeOneSQL(n, async)
}

// exchangeOneSQLs are the statements for up to three new tokens (a
// refresh issues two), built once: synchronous, then async.
var exchangeOneSQLs = [2][4]string{
	{buildExchangeOneSQL(0, false), buildExchangeOneSQL(1, false), buildExchangeOneSQL(2, false), buildExchangeOneSQL(3, false)},
	{buildExchangeOneSQL(0, true), buildExchangeOneSQL(1, true), buildExchangeOneSQL(2, true), buildExchangeOneSQL(3, true)},
}

// buildExchangeOneSQL builds the statement of exchangeOneSQL.
func buildExchangeOneSQL(n int, async bool) string {
	var rows []string
	for i := range n {
		p := 9 + 5*i
		rows = append(rows, fmt.Sprintf("($%d::bytea, $%d::smallint, $%d::text[], $%d::timestamptz, $%d::timestamptz)", p, p+1, p+2, p+3, p+4))
	}
	insert := "" // no new tokens: nothing to insert
	if n > 0 {
		insert = `, ins as (
	insert into oauth2_tokens (hash, grant_id, kind, scopes, issued_at, expires_at)
	select v.hash, $2, v.kind, v.scopes, v.issued, v.expires
	from (values ` + strings.Join(rows, ", ") + `) as v (hash, kind, scopes, issued, expires)
	where (select state from s) = 'ok'
)`
	}
	// s is read by the final select, so it is always evaluated; the
	// setting it makes is read when the statement's transaction commits.
	commit := ""
	if async {
		commit = `,
		case when state = 'ok' then set_config('synchronous_commit', 'off', true) end as async_commit`
	}
	return `with t as (
	select t.expires_at as token_expires, t.consumed_at, g.revoked_at, g.last_consumed_at, ` + grantColumns + `
	from oauth2_tokens t join oauth2_grants g on g.id = t.grant_id
	where t.hash = $1 and t.grant_id = $2 and t.kind = $3
	for update of g, t
), s as (
	select state` + commit + `
	from (select case
		when token_expires <= $4 or expires_at <= $4 or client_id <> $5 then 'notfound'
		when consumed_at is not null and (revoked_at is not null or $8::timestamptz is null
			or consumed_at <= $8::timestamptz) then 'reused'
		when revoked_at is not null then 'notfound'
		when consumed_at is null then 'ok'
		when exists (select 1 from oauth2_tokens o
			where o.grant_id = $2 and o.consumed_at > t.consumed_at) then 'reused'
		else 'ok' end as state
	from t) j
), c as (
	select greatest($4::timestamptz, last_consumed_at + interval '1 microsecond') as at from t
), revoke as (
	update oauth2_grants set revoked_at = $4
	where id = $2 and revoked_at is null and (select state from s) = 'reused'
), consume as (
	update oauth2_tokens set consumed_at = (select at from c)
	where hash = $1 and (select state from s) = 'ok' and (select consumed_at from t) is null
)` + insert + `, extend as (
	update oauth2_grants set expires_at = greatest(expires_at, $6),
		binding = case when binding = '' then $7::text else binding end,
		last_consumed_at = case when (select consumed_at from t) is null
			then (select at from c) else last_consumed_at end
	where id = $2 and (expires_at < $6 or (binding = '' and $7::text <> '')
			or (select consumed_at from t) is null)
		and (select state from s) = 'ok'
)
select s.state, t.id, t.client_id, t.user_id, t.username, t.scopes,
	case when s.state = 'ok' and t.binding = '' then $7::text else t.binding end, t.created_at,
	case when s.state = 'ok' then greatest(t.expires_at, $6) else t.expires_at end,
	t.code_redirect_uri, t.code_challenge, t.code_challenge_method
from t, s`
}

// exchangeOne is ExchangeToken without a Check: one statement, one round
// trip, with the same outcomes as the transaction of ExchangeToken.
func (s *Store) exchangeOne(ctx context.Context, x storage.Exchange, now time.Time) (*storage.Grant, error) {
	const op = "exchange token"
	expires := now
	args := make([]any, 0, 8+5*len(x.Issue))
	args = append(args, x.Presented.Hash[:], x.Presented.GrantID, int16(x.Kind), now, x.ClientID, nil, x.Bind, graceCutoff(x, now))
	for _, t := range x.Issue {
		if t.ExpiresAt.After(expires) {
			expires = t.ExpiresAt
		}
		args = append(args, t.Hash[:], int16(t.Kind), t.Scopes, t.IssuedAt, t.ExpiresAt)
	}
	args[5] = expires
	var (
		state string
		gf    grantFields
	)
	sql := exchangeOneSQL(len(x.Issue), s.async)
	// Read committed whatever the server's default_transaction_isolation
	// (see queryRow): an exchange that waited on the row lock of a
	// concurrent one then reads the row as that one left it (consumed:
	// reuse).
	err := s.queryRow(ctx, sql, args, append([]any{&state}, gf.targets()...)...)
	if err != nil {
		return nil, wrap(op, err)
	}
	switch state {
	case "ok":
		return gf.grant(), nil
	case "reused":
		return nil, wrap(op, reused(gf.grant()))
	}
	return nil, notFound(op)
}

// graceCutoff returns the instant a consumed refresh token must have been
// consumed after to be within x.ReuseGrace at now (now - grace: consumed
// + grace after now, as a token is live while its expiry is after now),
// or nil when there is no grace: none asked for (zero or negative), or a
// code, which never has any. Nil rather than now: a token consumed by an
// instance whose clock is ahead would otherwise be within a zero grace.
func graceCutoff(x storage.Exchange, now time.Time) *time.Time {
	grace := x.Grace()
	if grace == 0 {
		return nil
	}
	c := now.Add(-grace)
	return &c
}

// consumedAt returns the instant to record for a consumption at now of a
// token of a grant whose latest consumption recorded last (nil: none
// recorded): now, to the microsecond the database keeps, or one
// microsecond past last when now is not after it. So the consumptions of
// a grant, which its row lock serializes, record strictly increasing
// instants whatever the clocks of the instances that make them, and a
// token "consumed after" another (which ends the other's reuse grace) is
// one consumed later, not one whose instance's clock was ahead. The
// one-statement exchange computes the same in SQL (CTE c).
func consumedAt(now time.Time, last *time.Time) time.Time {
	at := now.Truncate(time.Microsecond)
	if last != nil && !at.After(*last) {
		at = last.Add(time.Microsecond)
	}
	return at
}

// reused is the storage.ReuseError of g, a grant an exchange found reused.
func reused(g *storage.Grant) error {
	return &storage.ReuseError{GrantID: g.ID, ClientID: g.ClientID, UserID: g.UserID}
}
