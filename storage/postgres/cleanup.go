package postgres

import "context"

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
	tag, err := s.exec(ctx, `delete from oauth2_grants where id in (
			select g.id from oauth2_grants g
			where g.expires_at <= $1
			   or (g.revoked_at is not null and not exists (
				select from oauth2_tokens t
				where t.grant_id = g.id and t.consumed_at is not null and t.expires_at > $1))
			limit $2 for update skip locked)`,
		now, limit)
	if err != nil {
		return 0, wrap("delete expired grants", err)
	}
	n := int(tag.RowsAffected())
	if n >= limit {
		return n, nil
	}
	tag, err = s.exec(ctx, `delete from oauth2_tokens where hash in (
			select hash from oauth2_tokens
			where expires_at <= $1
			limit $2 for update skip locked)`,
		now, limit-n)
	if err != nil {
		return n, wrap("delete expired tokens", err)
	}
	return n + int(tag.RowsAffected()), nil
}
