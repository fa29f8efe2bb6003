package postgres

import (
	"context"
)

// Revocation marks grants revoked; their rows and tokens stay until
// DeleteExpired reclaims them, so that revoking many grants is one cheap
// UPDATE. A revoked grant is never counted or returned again.

// RevokeGrant ends the grant and all its tokens. Revoking a grant that
// does not exist, has expired or was revoked already is not an error.
func (s *Store) RevokeGrant(ctx context.Context, grantID string) error {
	if !storable(grantID) {
		return nil
	}
	_, err := s.exec(ctx,
		`update oauth2_grants set revoked_at = $2 where id = $1 and revoked_at is null`,
		grantID, s.now())
	if badText(err) {
		return nil // the database's encoding cannot hold grantID: no grant has it
	}
	return wrap("revoke grant", err)
}

// RevokeUser ends every grant of the user not revoked yet and returns how
// many of them were live. It ends those that look expired too: expiry is
// judged by each instance's clock, and a grant that this instance's clock
// has passed may still be live to an instance whose clock is behind,
// where a refresh would extend it past the revocation. Grants that had
// expired or were revoked already are not counted. The empty user ID
// names no user (client_credentials grants have none), so it ends nothing.
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	if userID == "" || !storable(userID) {
		return 0, nil
	}
	n, err := s.revokeWhere(ctx, revokeUserSQL, userID)
	return n, wrap("revoke user", err)
}

// RevokeClient ends every grant of the client not revoked yet, as
// RevokeUser does, and returns how many of them were live.
func (s *Store) RevokeClient(ctx context.Context, clientID string) (int, error) {
	if clientID == "" || !storable(clientID) {
		return 0, nil // "": the browser sessions' grants, which no client owns
	}
	n, err := s.revokeWhere(ctx, revokeClientSQL, clientID)
	return n, wrap("revoke client", err)
}

// revokeUserSQL and revokeClientSQL revoke the grants of user or client
// $1 and count those that had not expired by $2. They lock the grants
// first, in the order of their IDs, and only then update them: an UPDATE
// locks rows in the order its plan meets them, which differs from one
// statement to another (by the index each uses, and as refreshes move
// rows), so two revocations of overlapping sets of grants (a client's
// and a user's) could each hold a grant the other waits for, and the
// server would abort one as a deadlock. Every other statement locks at
// most one grant (or skips locked ones: the janitor).
const (
	revokeUserSQL   = `with ended as (update oauth2_grants set revoked_at = $2 where id in (select id from oauth2_grants where user_id = $1 and revoked_at is null order by id for no key update) returning expires_at) ` + countLiveSQL
	revokeClientSQL = `with ended as (update oauth2_grants set revoked_at = $2 where id in (select id from oauth2_grants where client_id = $1 and revoked_at is null order by id for no key update) returning expires_at) ` + countLiveSQL
	countLiveSQL    = `select count(*) filter (where expires_at > $2) from ended`
)

// revokeWhere runs sql, revokeUserSQL or revokeClientSQL, for value.
// A value that the database's encoding cannot hold (storable admits it,
// the server refuses it) names no grant: it ends nothing.
func (s *Store) revokeWhere(ctx context.Context, sql, value string) (int, error) {
	var n int64
	err := s.queryRow(ctx, sql, []any{value, s.now()}, &n)
	if badText(err) {
		return 0, nil
	}
	return int(n), err
}
