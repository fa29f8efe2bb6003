package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

type storeAndPool struct {
	s    *postgres.Store
	pool *pgxpool.Pool
}

// benchFixture stores one grant with an access token and returns it.
func benchFixture(b *testing.B) (*storeAndPool, storage.Token) {
	clk := newClock()
	s, pool := newStore(b, clk.Now)
	g := newGrant(b, clk.Now())
	_, tk := newToken(b, storage.KindAccess, g.ID, clk.Now(), time.Hour)
	require.NoError(b, s.CreateGrant(context.Background(), g, tk))
	return &storeAndPool{s, pool}, tk
}

// BenchmarkLookupToken is the hot path of an authenticated request.
func BenchmarkLookupToken(b *testing.B) {
	f, tk := benchFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.s.LookupToken(ctx, storage.KindAccess, ref(tk)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrimaryKeySelect is the baseline for BenchmarkLookupToken: a
// bare SELECT of one token row by its primary key, on the same server.
func BenchmarkPrimaryKeySelect(b *testing.B) {
	f, tk := benchFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var kind int16
		if err := f.pool.QueryRow(ctx, "select kind from oauth2_tokens where hash = $1", tk.Hash[:]).Scan(&kind); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExchangeToken is a refresh with rotation (one refresh token
// consumed, an access and a refresh token issued) with every commit
// synchronous, and with Config.AsyncExchange; each new grant is rotated
// 16 times. BenchmarkPrimaryKeyUpdate is its floor.
func BenchmarkExchangeToken(b *testing.B) {
	for _, async := range []bool{false, true} {
		name := "commit=sync"
		if async {
			name = "commit=AsyncExchange"
		}
		b.Run(name, func(b *testing.B) {
			pool := newSchemaPool(b)
			ctx := context.Background()
			require.NoError(b, postgres.Migrate(ctx, pool))
			s := postgres.New(pool, postgres.Config{AsyncExchange: async})
			now := time.Now()
			var cur storage.Token
			n := 0
			start := func() {
				g := newGrant(b, now)
				_, cur = newToken(b, storage.KindRefresh, g.ID, now, 24*time.Hour)
				require.NoError(b, s.CreateGrant(ctx, g, cur))
				n = 0
			}
			start()
			b.ReportAllocs()
			for b.Loop() {
				if n == 16 {
					b.StopTimer()
					start()
					b.StartTimer()
				}
				_, a := newToken(b, storage.KindAccess, cur.GrantID, now, time.Hour)
				_, r := newToken(b, storage.KindRefresh, cur.GrantID, now, 24*time.Hour+time.Duration(n+1)*time.Second)
				if _, err := s.ExchangeToken(ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: ref(cur),
					ClientID: "c1", Issue: []storage.Token{a, r}}); err != nil {
					b.Fatal(err)
				}
				cur = r
				n++
			}
		})
	}
}

// BenchmarkPrimaryKeyUpdate is the floor of a write on the same server:
// an autocommit UPDATE of one row by its primary key, which pays a
// synchronous commit as an exchange does.
func BenchmarkPrimaryKeyUpdate(b *testing.B) {
	f, tk := benchFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.pool.Exec(ctx, "update oauth2_tokens set issued_at = issued_at where hash = $1", tk.Hash[:]); err != nil {
			b.Fatal(err)
		}
	}
}
