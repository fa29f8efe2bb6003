package postgres

import "context"

// The janitor's statements, $1 now and $2 the batch's limit. Each picks
// at most $2 rows, skipping rows another transaction holds, and deletes
// them. Each reads about as many rows as it deletes, whatever the size
// of the tables (but for the revoked grants that still hold an unexpired
// consumed token, which each run looks at again, one index probe each),
// in a plan for any parameters as in one for the given ones (pgx
// prepares its statements, and the server may then plan for any): the
// rows are picked in the order of an index that finds them,
// and deleted by key from an array (a join with the picked rows can be
// planned as a hash join over the whole table). A revoked grant is
// looked up in its tokens by grant ID, one at a time (LATERAL ... LIMIT
// 1): as NOT EXISTS the server may hash every unexpired consumed token
// instead.
const (
	deleteExpiredGrantsSQL = `delete from oauth2_grants where id = any(array(
			select id from oauth2_grants
			where expires_at <= $1
			order by expires_at
			limit $2 for update skip locked))`
	deleteRevokedGrantsSQL = `delete from oauth2_grants where id = any(array(
			select g.id from oauth2_grants g
			left join lateral (
				select true as held from oauth2_tokens t
				where t.grant_id = g.id and t.consumed_at is not null and t.expires_at > $1
				limit 1) c on true
			where g.revoked_at is not null and c.held is null
			order by g.revoked_at
			limit $2 for update of g skip locked))`
	// #nosec G101 -- a statement, not a credential
	deleteTokensSQL = `delete from oauth2_tokens where hash = any(array(
			select hash from oauth2_tokens
			where expires_at <= $1
			order by expires_at
			limit $2 for update skip locked))`
)

// DeleteExpired removes up to limit expired or revoked records and returns
// how many it removed; call it until it returns fewer than limit. A record
// is a grant that expired, or was revoked and holds no consumed token that
// is still unexpired (its tokens go with it, uncounted), or an expired
// token. Consumed tokens stay until they expire, so that presenting one
// again is still detected as reuse, even after the grant was revoked.
// Concurrent janitors skip each other's rows instead of waiting. A limit
// below 1 removes nothing.
func (s *Store) DeleteExpired(ctx context.Context, limit int) (int, error) {
	if limit < 1 {
		return 0, nil
	}
	now := s.now()
	n := 0
	for _, step := range []struct{ op, sql string }{
		{"delete expired grants", deleteExpiredGrantsSQL},
		{"delete revoked grants", deleteRevokedGrantsSQL},
		{"delete expired tokens", deleteTokensSQL},
	} {
		tag, err := s.exec(ctx, step.sql, now, limit-n)
		if err != nil {
			return n, wrap(step.op, err)
		}
		n += int(tag.RowsAffected())
		if n >= limit {
			break
		}
	}
	return n, nil
}
