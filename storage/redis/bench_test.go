package redis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// BenchmarkLookupToken measures LookupToken (one pipeline of two HMGETs
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

// BenchmarkExchangeToken measures ExchangeToken without Check (one script
// consuming a refresh token and storing a new access and refresh token)
// next to a bare GET on the same server. Each grant is rotated a few
// times, as a session is, before a new one is started (untimed).
func BenchmarkExchangeToken(b *testing.B) {
	const chain = 16
	for _, tp := range topologies {
		b.Run(tp.name, func(b *testing.B) {
			c := tp.client(b)
			clk := newFakeClock()
			s, prefix := newStore(b, c, clk.Now)
			ctx := b.Context()
			newTok := func(k storage.TokenKind, gid string, ttl time.Duration) (storage.TokenRef, storage.Token) {
				_, ref, err := token.New(k, gid)
				require.NoError(b, err)
				now := clk.Now()
				return ref, storage.Token{Hash: ref.Hash, Kind: k, GrantID: gid, Scopes: []string{"read"}, IssuedAt: now, ExpiresAt: now.Add(ttl)}
			}
			start := func() storage.TokenRef {
				gid, err := token.NewGrantID()
				require.NoError(b, err)
				now := clk.Now()
				g := &storage.Grant{ID: gid, ClientID: "web", UserID: "alice", Scopes: []string{"read", "write"}, CreatedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour)}
				_, at := newTok(storage.KindAccess, gid, time.Hour)
				ref, rt := newTok(storage.KindRefresh, gid, 30*24*time.Hour)
				require.NoError(b, s.CreateGrant(ctx, g, at, rt))
				return ref
			}
			getKey := prefix + "bench:get"
			require.NoError(b, c.Set(ctx, getKey, "some value of about the size of a grant", time.Hour).Err())

			b.Run("ExchangeToken", func(b *testing.B) {
				b.ReportAllocs()
				ref, n := start(), 0
				for b.Loop() {
					if n == chain {
						b.StopTimer()
						ref, n = start(), 0
						b.StartTimer()
					}
					_, at := newTok(storage.KindAccess, ref.GrantID, time.Hour)
					next, rt := newTok(storage.KindRefresh, ref.GrantID, 30*24*time.Hour)
					x := storage.Exchange{Kind: storage.KindRefresh, Presented: ref, ClientID: "web", Issue: []storage.Token{at, rt}}
					if _, err := s.ExchangeToken(ctx, x); err != nil {
						b.Fatal(err)
					}
					ref = next
					n++
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
