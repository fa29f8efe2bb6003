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
	_, err := s.exec(ctx,
		`update oauth2_grants set revoked_at = $2 where id = $1 and revoked_at is null`,
		grantID, s.now())
	return wrap("revoke grant", err)
}

// RevokeUser ends every live grant of the user and returns how many it
// ended. Grants that had expired or were revoked already are not counted.
// The empty user ID names no user (client_credentials grants have none),
// so it ends nothing.
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	tag, err := s.exec(ctx, `update oauth2_grants set revoked_at = $2
		where user_id = $1 and revoked_at is null and expires_at > $2`,
		userID, s.now())
	if err != nil {
		return 0, wrap("revoke user", err)
	}
	return int(tag.RowsAffected()), nil
}

// RevokeClient ends every live grant of the client and returns how many it
// ended. Grants that had expired or were revoked already are not counted.
func (s *Store) RevokeClient(ctx context.Context, clientID string) (int, error) {
	tag, err := s.exec(ctx, `update oauth2_grants set revoked_at = $2
		where client_id = $1 and revoked_at is null and expires_at > $2`,
		clientID, s.now())
	if err != nil {
		return 0, wrap("revoke client", err)
	}
	return int(tag.RowsAffected()), nil
}
