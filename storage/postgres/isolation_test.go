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
			// A subtest per round, so that each round's pool and
			// schema go when it ends: ten rounds' connections held at
			// once would exceed a server's default max_connections
			// (100) and fail as "too many clients".
			for round := range 10 {
				t.Run(fmt.Sprint(round), func(t *testing.T) {
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
				})
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
			require.NoError(t, s.CreateClient(ctx, &storage.Client{ID: "c", Public: true, CreatedAt: time.Now()}))
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

// Under a serializable default_transaction_isolation, grants created at
// once (logins, each a CreateGrant) are all stored: a creation that fails
// to serialize changed nothing and is run again, not reported as an
// outage (a 503 at the token endpoint).
func TestCreateGrant_ConcurrentCreationsUnderSerializable(t *testing.T) {
	s, clk := newSerializableStore(t)
	ctx := context.Background()
	const workers, each = 8, 25
	errs := make(chan error, workers*each)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			for range each {
				g := newGrant(t, clk.Now())
				_, a := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
				_, r := newToken(t, storage.KindRefresh, g.ID, clk.Now(), 24*time.Hour)
				if err := s.CreateGrant(ctx, g, a, r); err != nil {
					errs <- err
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	failed := 0
	var first error
	for err := range errs {
		if first == nil {
			first = err
		}
		failed++
	}
	assert.Zero(t, failed, "creations failed, the first with: %v", first)
}

// A creation refused (a taken grant ID) ends its transaction: the
// connection goes back to the pool usable, not closed; so does one sent
// in an explicit read committed transaction, as a store does once the
// server showed a stricter default isolation.
func TestCreateGrant_RefusalKeepsTheConnection(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprintf("strict=%v", strict), func(t *testing.T) { testRefusalKeepsTheConnection(t, strict) })
	}
}

func testRefusalKeepsTheConnection(t *testing.T, strict bool) {
	pool := newSchemaPool(t, func(cfg *pgxpool.Config) { cfg.MaxConns = 1 })
	s, clk := newClockedStore(t, pool)
	ctx := context.Background()
	if strict {
		postgres.SetStrict(s)
	}
	g := newGrant(t, clk.Now())
	_, a := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
	require.NoError(t, s.CreateGrant(ctx, g, a))
	conns := pool.Stat().NewConnsCount()
	_, b := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
	require.ErrorIs(t, s.CreateGrant(ctx, g, b), storage.ErrAlreadyExists)
	_, err := s.LookupToken(ctx, storage.KindAccess, ref(b))
	require.ErrorIs(t, err, storage.ErrNotFound, "nothing of the refused creation stored")
	_, err = s.LookupToken(ctx, storage.KindAccess, ref(a))
	require.NoError(t, err)
	assert.Equal(t, conns, pool.Stat().NewConnsCount(), "connections made")
}

// Under a serializable default_transaction_isolation, token lookups (the
// check of every authenticated request) and revocations of other grants
// (logouts) made at once all answer: a statement that fails to serialize
// changed nothing and is run again, not reported as an outage (a 503).
func TestLookupAndRevoke_RacingUnderSerializable(t *testing.T) {
	s, clk := newSerializableStore(t)
	ctx := context.Background()
	const workers, rounds = 4, 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	failures := map[string]int{}
	fail := func(what string, err error) {
		mu.Lock()
		failures[what+": "+err.Error()]++
		mu.Unlock()
	}
	start := make(chan struct{})
	for range workers {
		var grants []string
		for range rounds {
			g := newGrant(t, clk.Now())
			require.NoError(t, s.CreateGrant(ctx, g))
			grants = append(grants, g.ID)
		}
		g := newGrant(t, clk.Now())
		_, a := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
		require.NoError(t, s.CreateGrant(ctx, g, a))
		wg.Go(func() {
			<-start
			for _, id := range grants {
				if err := s.RevokeGrant(ctx, id); err != nil {
					fail("revoke", err)
				}
			}
		})
		wg.Go(func() {
			<-start
			for range rounds {
				if _, err := s.LookupToken(ctx, storage.KindAccess, ref(a)); err != nil {
					fail("lookup", err)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Empty(t, failures)
}

// newSerializableStore returns a Store on a fresh, migrated schema whose
// connections default to serializable transactions, and its clock.
func newSerializableStore(t *testing.T) (*postgres.Store, *clock) {
	t.Helper()
	pool := newSchemaPool(t, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "serializable"
	})
	return newClockedStore(t, pool)
}

// Under a default_transaction_isolation stricter than read committed,
// client reads and writes made at once by several processes on one
// database (app instances, oauth2ctl: each its own Store, none of which
// has seen a serialization failure yet) answer as the contract says: a
// lookup of a client (the start of every token request), a listing, a
// creation or an update that fails to serialize changed nothing and is
// run again, not reported as an outage (a 503, a failed command).
func TestClients_RacingStoresUnderAStricterDefaultIsolation(t *testing.T) {
	for _, iso := range []string{"repeatable read", "serializable"} {
		t.Run(iso, func(t *testing.T) {
			pool := newSchemaPool(t, func(cfg *pgxpool.Config) {
				cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = iso
			})
			ctx := context.Background()
			require.NoError(t, postgres.Migrate(ctx, pool))
			ids := []string{"c1", "c2", "c3", "c4"}
			for _, id := range ids {
				require.NoError(t, postgres.New(pool, postgres.Config{}).CreateClient(ctx, &storage.Client{ID: id, Public: true, CreatedAt: time.Now()}))
			}
			const workers, each = 8, 60
			var (
				mu       sync.Mutex
				failures = map[string]int{}
				created  int
				wg       sync.WaitGroup
			)
			start := make(chan struct{})
			for w := range workers {
				wg.Go(func() {
					<-start
					for i := range each {
						s := postgres.New(pool, postgres.Config{}) // another process's store
						id := ids[(w+i)%len(ids)]
						var what string
						var err error
						switch i % 4 {
						case 0:
							what = "get"
							_, err = s.GetClient(ctx, id)
						case 1:
							what = "list"
							_, err = s.ListClients(ctx)
						case 2:
							what = "create"
							mu.Lock()
							created++
							n := created
							mu.Unlock()
							err = s.CreateClient(ctx, &storage.Client{ID: fmt.Sprintf("n%d", n/2), Public: true, CreatedAt: time.Now()})
						case 3:
							what = "update"
							c := &storage.Client{ID: id, Public: true, Disabled: i%8 == 3, CreatedAt: time.Now()}
							err = s.UpdateClient(ctx, c)
						}
						if o := outcome(err); o != "ok" && o != "exists" {
							mu.Lock()
							failures[what+": "+o]++
							mu.Unlock()
						}
					}
				})
			}
			close(start)
			wg.Wait()
			assert.Empty(t, failures)
		})
	}
}

// The first statement that fails to serialize switches the store to
// sending every statement in an explicit read committed transaction, so
// that the next ones do not fail first: an update that waited on another
// transaction's row lock under repeatable read fails (SQLSTATE 40001),
// is run again read committed and succeeds, and the store stays strict.
// Until then statements go as they are.
func TestStore_TurnsStrictAtTheFirstSerializationFailure(t *testing.T) {
	pool := newSchemaPool(t, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "repeatable read"
	})
	ctx := context.Background()
	require.NoError(t, postgres.Migrate(ctx, pool))
	s := postgres.New(pool, postgres.Config{})
	require.NoError(t, s.CreateClient(ctx, &storage.Client{ID: "c", Public: true, CreatedAt: time.Now()}))
	c, err := s.GetClient(ctx, "c")
	require.NoError(t, err)
	require.False(t, postgres.Strict(s), "no statement failed to serialize yet")

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `update oauth2_clients set scopes = '{other}' where id = 'c'`)
	require.NoError(t, err)
	var holder int32
	require.NoError(t, tx.QueryRow(ctx, `select pg_backend_pid()`).Scan(&holder))
	done := make(chan error, 1)
	go func() {
		c.Revision = 0
		done <- s.UpdateClient(ctx, c)
	}()
	require.Eventually(t, func() bool {
		var waiting bool
		err := pool.QueryRow(ctx, `select exists (select 1 from pg_stat_activity where $1 = any(pg_blocking_pids(pid)))`, holder).Scan(&waiting)
		return err == nil && waiting
	}, 10*time.Second, 10*time.Millisecond, "the update waits on the row lock")
	require.NoError(t, tx.Commit(ctx))
	require.NoError(t, <-done, "run again read committed, the update succeeds")
	assert.True(t, postgres.Strict(s), "the store is strict from now on")
	got, err := s.GetClient(ctx, "c")
	require.NoError(t, err)
	assert.Equal(t, int64(2), got.Revision)
	assert.Nil(t, got.Scopes, "the update, run again, replaced the other transaction's write")
}

// Under a default_transaction_isolation stricter than read committed,
// the janitor racing revocations of the grants it reclaims still
// succeeds: a statement of DeleteExpired that fails to serialize (it
// locks a grant that a revocation committed after its snapshot) is run
// again read committed, as every other statement of the store is, rather
// than reported as an outage.
func TestDeleteExpired_RacingRevocationsUnderAStricterDefaultIsolation(t *testing.T) {
	for _, iso := range []string{"repeatable read", "serializable"} {
		t.Run(iso, func(t *testing.T) {
			pool := newSchemaPool(t, func(cfg *pgxpool.Config) {
				cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = iso
			})
			s, clk := newClockedStore(t, pool)
			ctx := context.Background()
			for round := range 10 {
				const n = 40
				grants := make([]*storage.Grant, n)
				for i := range grants {
					g := newGrant(t, clk.Now())
					g.ExpiresAt = clk.Now().Add(time.Minute)
					_, tk := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Minute)
					require.NoError(t, s.CreateGrant(ctx, g, tk))
					grants[i] = g
				}
				clk.Advance(time.Minute)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for _, g := range grants {
					wg.Go(func() {
						<-start
						_ = s.RevokeGrant(ctx, g.ID)
					})
				}
				errs := make([]error, 4)
				for i := range errs {
					wg.Go(func() {
						<-start
						for range 5 {
							if _, err := s.DeleteExpired(ctx, 5); err != nil {
								errs[i] = err
								return
							}
						}
					})
				}
				close(start)
				wg.Wait()
				for _, err := range errs {
					require.NoError(t, err, "round %d", round)
				}
				_, err := s.DeleteExpired(ctx, 1000)
				require.NoError(t, err)
			}
		})
	}
}
