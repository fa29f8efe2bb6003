package storeurl

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/storage"
)

// Options.Now is the clock the opened stores judge expiry against: a
// token whose expiry has passed on that clock is gone, whatever the
// time of the machine.
func TestOpenStoresUseOptionsNow(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, u string) {
		ctx := context.Background()
		start := time.Now().UTC().Truncate(time.Millisecond)
		var now atomic.Int64
		now.Store(start.UnixNano())
		s, err := Open(ctx, u, Options{Now: func() time.Time { return time.Unix(0, now.Load()).UTC() }})
		require.NoError(t, err)
		defer s.Close()
		require.NoError(t, s.Migrate(ctx))

		g := &storage.Grant{ID: "clockgrant000000000001", ClientID: "c1", UserID: "u1", CreatedAt: start, ExpiresAt: start.Add(time.Hour)}
		tok := storage.Token{Hash: storage.HashToken("tok"), Kind: storage.KindAccess, GrantID: g.ID, IssuedAt: start, ExpiresAt: start.Add(time.Hour)}
		require.NoError(t, s.Tokens.CreateGrant(ctx, g, tok))
		ref := storage.TokenRef{GrantID: g.ID, Hash: tok.Hash}
		_, err = s.Tokens.LookupToken(ctx, storage.KindAccess, ref)
		require.NoError(t, err)

		now.Store(start.Add(2 * time.Hour).UnixNano())
		_, err = s.Tokens.LookupToken(ctx, storage.KindAccess, ref)
		assert.ErrorIs(t, err, storage.ErrNotFound, "a token expired on the stores' clock is found")
	})
}
