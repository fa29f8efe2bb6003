package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
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
