package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// waitForLockWaiters waits, up to a few seconds, until n statements of
// pool's sessions (its application_name: see newSchemaPool) on the
// store's grants wait for a lock; another package's tests on the same
// server do not count.
func waitForLockWaiters(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var waiting int
		require.NoError(t, pool.QueryRow(context.Background(), `select count(*) from pg_stat_activity
			where wait_event_type = 'Lock' and query like '%update oauth2_grants%' and pid <> pg_backend_pid()
			and application_name = current_setting('application_name')`).Scan(&waiting))
		if waiting >= n {
			return
		}
	}
	t.Fatalf("fewer than %d statements wait for a lock", n)
}

// RevokeClient and RevokeUser of overlapping grants, at once, both end:
// neither fails as a deadlock. Each locks the grants it revokes one by
// one, in the order its scan meets them; when the orders differ (here
// because a refresh moved a grant's row after one began, and the orders
// also follow the plan each statement gets), each can end up holding a
// grant the other waits for, and the server aborts one of them (SQLSTATE
// 40P01): disabling a client, or revoking a user, fails as an outage.
func TestRevokeUserAndRevokeClient_DoNotDeadlock(t *testing.T) {
	clk := newClock()
	pool := newSchemaPool(t)
	ctx := context.Background()
	require.NoError(t, postgres.Migrate(ctx, pool))
	s := postgres.New(pool, postgres.Config{Now: clk.Now})
	// Stored in this order, so their rows are in this order: client c's
	// gy, ga, gb, gz, of which user u's ga, gb, gz.
	for _, g := range []struct{ id, user string }{{"gy", "v"}, {"ga", "u"}, {"gb", "u"}, {"gz", "u"}} {
		require.NoError(t, s.CreateGrant(ctx, &storage.Grant{ID: g.id, ClientID: "c", UserID: g.user,
			CreatedAt: clk.Now(), ExpiresAt: clk.Now().Add(time.Hour)}))
	}
	hold := func(id string) func() {
		tx, err := pool.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `select from oauth2_grants where id = $1 for update`, id)
		require.NoError(t, err)
		return func() { _ = tx.Rollback(ctx) }
	}
	releaseY, releaseZ := hold("gy"), hold("gz")
	defer releaseY()
	defer releaseZ()

	type result struct {
		n   int
		err error
	}
	byClient, byUser := make(chan result, 1), make(chan result, 1)
	go func() { n, err := s.RevokeClient(ctx, "c"); byClient <- result{n, err} }()
	waitForLockWaiters(t, pool, 1) // RevokeClient waits on gy, before ga and gb
	// A refresh extends ga, unless RevokeClient holds it already: its row
	// moves past gz's.
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `set local lock_timeout = '200ms'`)
	require.NoError(t, err)
	if _, err = tx.Exec(ctx, `update oauth2_grants set expires_at = expires_at + interval '1 second' where id = 'ga'`); err == nil {
		require.NoError(t, tx.Commit(ctx))
	} else {
		_ = tx.Rollback(ctx)
	}
	go func() { n, err := s.RevokeUser(ctx, "u"); byUser <- result{n, err} }()
	waitForLockWaiters(t, pool, 2) // RevokeUser took gb and waits on gz, before ga
	releaseY()
	waitForLockWaiters(t, pool, 2) // RevokeClient took ga and waits on gb
	time.Sleep(50 * time.Millisecond)
	releaseZ() // RevokeUser takes gz and waits on ga

	c, u := <-byClient, <-byUser
	assert.NoError(t, c.err, "RevokeClient")
	assert.NoError(t, u.err, "RevokeUser")
	assert.Equal(t, 4, c.n+u.n, "grants revoked, counted once")
	var live int
	require.NoError(t, pool.QueryRow(ctx, `select count(*) from oauth2_grants where revoked_at is null`).Scan(&live))
	assert.Zero(t, live, "grants left unrevoked")
}

// Two revocations (RevokeUser, RevokeClient) of the same grants, the
// second started while the first waits for one of them, both end: each
// locks the grants in the order of their IDs, whichever order its plan
// meets them in (here the order the rows were stored in: gz, gm, ga). A
// statement that locked them in that order would take gz and wait for
// gm, which the other, having taken ga, waits for too; once gm is free
// the first takes it and waits for ga: a deadlock, which the server ends
// by aborting one of them. And each locks them for the update it makes:
// two that only share-locked them would both hold ga and each wait for
// the other to release it.
func TestRevocations_LockGrantsInIDOrderForUpdate(t *testing.T) {
	for _, order := range []struct{ first, second string }{
		{"User", "Client"}, {"Client", "User"}, {"User", "User"}, {"Client", "Client"},
	} {
		t.Run(order.first+"Then"+order.second, func(t *testing.T) {
			clk := newClock()
			pool := newSchemaPool(t)
			ctx := context.Background()
			require.NoError(t, postgres.Migrate(ctx, pool))
			s := postgres.New(pool, postgres.Config{Now: clk.Now})
			for _, id := range []string{"gz", "gm", "ga"} {
				require.NoError(t, s.CreateGrant(ctx, &storage.Grant{ID: id, ClientID: "c", UserID: "u",
					CreatedAt: clk.Now(), ExpiresAt: clk.Now().Add(time.Hour)}))
			}
			revoke := map[string]func() (int, error){
				"User":   func() (int, error) { return s.RevokeUser(ctx, "u") },
				"Client": func() (int, error) { return s.RevokeClient(ctx, "c") },
			}
			first, second := revoke[order.first], revoke[order.second]
			tx, err := pool.Begin(ctx)
			require.NoError(t, err)
			defer func() { _ = tx.Rollback(ctx) }()
			_, err = tx.Exec(ctx, `select from oauth2_grants where id = 'gm' for update`)
			require.NoError(t, err)

			type result struct {
				n   int
				err error
			}
			results := make(chan result, 2)
			go func() { n, err := first(); results <- result{n, err} }()
			waitForLockWaiters(t, pool, 1)
			go func() { n, err := second(); results <- result{n, err} }()
			waitForLockWaiters(t, pool, 2)
			require.NoError(t, tx.Rollback(ctx))

			a, b := <-results, <-results
			assert.NoError(t, a.err)
			assert.NoError(t, b.err)
			assert.Equal(t, 3, a.n+b.n, "grants revoked, counted once")
		})
	}
}
