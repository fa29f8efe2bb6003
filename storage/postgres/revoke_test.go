package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// Instances judge expiry by their own clocks. A grant that the revoking
// instance's clock has passed, but that an instance whose clock is 2 s
// behind still sees live, is revoked all the same (and not counted):
// otherwise a refresh on the slow instance would extend it past the
// revocation.
func TestRevocationEndsGrantsThatLookExpiredHere(t *testing.T) {
	for _, revoke := range []struct {
		name string
		call func(s *postgres.Store) (int, error)
	}{
		{"RevokeUser", func(s *postgres.Store) (int, error) { return s.RevokeUser(context.Background(), "u1") }},
		{"RevokeClient", func(s *postgres.Store) (int, error) { return s.RevokeClient(context.Background(), "c1") }},
	} {
		t.Run(revoke.name, func(t *testing.T) {
			ctx := context.Background()
			slowClock := newClock()
			slow, pool := newStore(t, slowClock.Now)
			fastClock := newClock()
			fast := postgres.New(pool, postgres.Config{Now: fastClock.Now})

			g := newGrant(t, t0)
			g.ExpiresAt = t0.Add(time.Hour)
			_, refresh := newToken(t, storage.KindRefresh, g.ID, t0, time.Hour)
			require.NoError(t, slow.CreateGrant(ctx, g, refresh))

			slowClock.Advance(time.Hour - time.Second) // live here
			fastClock.Advance(time.Hour + time.Second) // expired there
			n, err := revoke.call(fast)
			require.NoError(t, err)
			assert.Zero(t, n, "an expired grant is not counted")

			_, next := newToken(t, storage.KindRefresh, g.ID, slowClock.Now(), 30*24*time.Hour)
			_, err = slow.ExchangeToken(ctx, storage.Exchange{Kind: storage.KindRefresh, ClientID: "c1",
				Presented: ref(refresh), Issue: []storage.Token{next}})
			assert.ErrorIs(t, err, storage.ErrNotFound, "the grant was revoked, whatever the revoking clock said")
		})
	}
}
