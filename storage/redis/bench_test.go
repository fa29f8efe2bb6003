package redis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// BenchmarkLookupToken measures LookupToken (one MULTI/EXEC of two HMGETs
// reading a token and its grant) next to a bare GET of a small value on the same server,
// the floor any Redis lookup pays.
func BenchmarkLookupToken(b *testing.B) {
	for _, tp := range topologies {
		b.Run(tp.name, func(b *testing.B) {
			c := tp.client(b)
			clk := newFakeClock()
			s, prefix := newStore(b, c, clk.Now)
			ctx := b.Context()

			gid, err := token.NewGrantID()
			require.NoError(b, err)
			_, ref, err := token.New(storage.KindAccess, gid)
			require.NoError(b, err)
			now := clk.Now()
			g := &storage.Grant{ID: gid, ClientID: "web", UserID: "alice", Scopes: []string{"read", "write"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			tok := storage.Token{Hash: ref.Hash, Kind: storage.KindAccess, GrantID: gid, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
			require.NoError(b, s.CreateGrant(ctx, g, tok))
			getKey := prefix + "bench:get"
			require.NoError(b, c.Set(ctx, getKey, "some value of about the size of a grant", time.Hour).Err())

			b.Run("LookupToken", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.LookupToken(ctx, storage.KindAccess, ref); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("GET", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := c.Get(ctx, getKey).Err(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
