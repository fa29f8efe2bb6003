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
	clk := &clock{now: t0}
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
