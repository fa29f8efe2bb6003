package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// Under a default_transaction_isolation stricter than read committed, a
// revocation racing the exchanges of the grant it revokes still succeeds:
// its statement, which failed to serialize and so changed nothing, is run
// again rather than reported as an outage.
func TestRevokeUser_RacingExchangesUnderAStricterDefaultIsolation(t *testing.T) {
	for _, iso := range []string{"repeatable read", "serializable"} {
		t.Run(iso, func(t *testing.T) {
			for range 10 {
				f := newExchangeFixture(t, func(cfg *pgxpool.Config) {
					cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = iso
				})
				ctx := context.Background()
				var wg sync.WaitGroup
				start := make(chan struct{})
				for range 8 {
					x, _ := f.rotation(t)
					wg.Go(func() {
						<-start
						_, _ = f.s.ExchangeToken(ctx, x) // one wins, the others revoke the grant
					})
				}
				var err error
				wg.Go(func() {
					<-start
					_, err = f.s.RevokeUser(ctx, f.grant.UserID)
				})
				close(start)
				wg.Wait()
				assert.NoError(t, err)
			}
		})
	}
}

// Under a default_transaction_isolation stricter than read committed,
// updates of one client revision racing each other still end as one
// success and conflicts: an update that waited on the winner's row lock
// fails to serialize, and run again it compares the winner's revision.
func TestUpdateClient_RacingUpdatesUnderAStricterDefaultIsolation(t *testing.T) {
	for _, iso := range []string{"repeatable read", "serializable"} {
		t.Run(iso, func(t *testing.T) {
			pool := newSchemaPool(t, func(cfg *pgxpool.Config) {
				cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = iso
			})
			ctx := context.Background()
			require.NoError(t, postgres.Migrate(ctx, pool))
			s := postgres.New(pool, postgres.Config{})
			require.NoError(t, s.CreateClient(ctx, &storage.Client{ID: "c", CreatedAt: time.Now()}))
			for round := range 5 {
				const n = 8
				errs := make([]error, n)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range n {
					c, err := s.GetClient(ctx, "c")
					require.NoError(t, err)
					c.Scopes = []string{fmt.Sprintf("r%d-%d", round, i)}
					wg.Go(func() {
						<-start
						errs[i] = s.UpdateClient(ctx, c)
					})
				}
				close(start)
				wg.Wait()
				won := 0
				for _, err := range errs {
					if err == nil {
						won++
					} else {
						assert.ErrorIs(t, err, storage.ErrConflict)
					}
				}
				assert.Equal(t, 1, won, "round %d", round)
			}
		})
	}
}
