package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// During a partition every operation fails within its context, and none
// reads as "not found" (which would log users out, or hide the outage).
func TestOperations_DuringAPartitionAreOutagesNotNotFound(t *testing.T) {
	pool, bh := newBlackholedPool(t)
	s, clk := newClockedStore(t, pool)
	ctx := context.Background()
	g := newGrant(t, clk.Now())
	_, access := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
	_, refresh := newToken(t, storage.KindRefresh, g.ID, clk.Now(), time.Hour)
	require.NoError(t, s.CreateGrant(ctx, g, access, refresh))
	require.NoError(t, s.CreateClient(ctx, &storage.Client{ID: "c1", Public: true, CreatedAt: clk.Now()}))
	bh.frozen.Store(true)
	defer bh.close()

	g2 := newGrant(t, clk.Now())
	ops := map[string]func(context.Context) error{
		"lookup": func(ctx context.Context) error {
			_, err := s.LookupToken(ctx, storage.KindAccess, ref(access))
			return err
		},
		"exchange": func(ctx context.Context) error {
			_, err := s.ExchangeToken(ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: ref(refresh), ClientID: g.ClientID})
			return err
		},
		"exchange with check": func(ctx context.Context) error {
			_, err := s.ExchangeToken(ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: ref(refresh), ClientID: g.ClientID,
				Check: func(*storage.Grant) error { return nil }})
			return err
		},
		"extend":        func(ctx context.Context) error { return s.ExtendToken(ctx, ref(access), clk.Now().Add(time.Hour)) },
		"create":        func(ctx context.Context) error { return s.CreateGrant(ctx, g2) },
		"revoke grant":  func(ctx context.Context) error { return s.RevokeGrant(ctx, g.ID) },
		"revoke user":   func(ctx context.Context) error { _, err := s.RevokeUser(ctx, "u1"); return err },
		"revoke client": func(ctx context.Context) error { _, err := s.RevokeClient(ctx, "c1"); return err },
		"get client":    func(ctx context.Context) error { _, err := s.GetClient(ctx, "c1"); return err },
		"update client": func(ctx context.Context) error { return s.UpdateClient(ctx, &storage.Client{ID: "c1", Public: true}) },
		// Refused before the server sees it, but only once the client is
		// known to exist, which the outage hides.
		"update client with unstorable text": func(ctx context.Context) error {
			return s.UpdateClient(ctx, &storage.Client{ID: "c1", Public: true, Scopes: []string{"a\x00b"}})
		},
		"list clients": func(ctx context.Context) error { _, err := s.ListClients(ctx); return err },
		"janitor":      func(ctx context.Context) error { _, err := s.DeleteExpired(ctx, 10); return err },
	}
	for name, op := range ops {
		tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		start := time.Now()
		err := op(tctx)
		cancel()
		assert.Error(t, err, name)
		assert.NotErrorIs(t, err, storage.ErrNotFound, name)
		assert.Less(t, time.Since(start), 3*time.Second, name)
	}
}
