package memory

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// The store keeps times in Unix nanoseconds: the first and the last
// instant they hold are stored and come back as they were; one nanosecond
// outside them is refused, never stored as another time.
func TestTimeRangeBoundsAreKept(t *testing.T) {
	first := time.Unix(0, math.MinInt64+1).UTC()
	last := time.Unix(0, math.MaxInt64).UTC()
	clk := newTestClock()
	s := New(Config{Now: clk.Now})

	newGrant := func(created, expires time.Time) (*storage.Grant, storage.Token, storage.TokenRef) {
		t.Helper()
		id, err := token.NewGrantID()
		require.NoError(t, err)
		_, ref, err := token.New(storage.KindAccess, id)
		require.NoError(t, err)
		g := &storage.Grant{ID: id, ClientID: "c", UserID: "u", CreatedAt: created, ExpiresAt: expires}
		return g, storage.Token{Hash: ref.Hash, Kind: storage.KindAccess, GrantID: id, IssuedAt: created, ExpiresAt: expires}, ref
	}

	g, tok, ref := newGrant(first, last)
	require.NoError(t, s.CreateGrant(t.Context(), g, tok), "the first and the last instant are kept")
	ti, err := s.LookupToken(t.Context(), storage.KindAccess, ref)
	require.NoError(t, err)
	require.Equal(t, first, ti.Grant.CreatedAt)
	require.Equal(t, last, ti.Grant.ExpiresAt)
	require.Equal(t, first, ti.Token.IssuedAt)
	require.Equal(t, last, ti.Token.ExpiresAt)
	require.NoError(t, s.ExtendToken(t.Context(), ref, last))
	require.ErrorIs(t, s.ExtendToken(t.Context(), ref, last.Add(time.Nanosecond)), errTimeRange)

	g, tok, _ = newGrant(first.Add(-time.Nanosecond), clk.Now().Add(time.Hour))
	require.ErrorIs(t, s.CreateGrant(t.Context(), g, tok), errTimeRange, "created before the first instant")
	g, tok, _ = newGrant(clk.Now(), last.Add(time.Nanosecond))
	require.ErrorIs(t, s.CreateGrant(t.Context(), g, tok), errTimeRange, "expiring after the last instant")
}
