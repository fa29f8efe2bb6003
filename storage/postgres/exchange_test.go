package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// exchangeFixture is a store holding one grant with an access and a
// refresh token.
type exchangeFixture struct {
	s       *postgres.Store
	clk     *clock
	grant   *storage.Grant
	access  storage.Token
	refresh storage.Token
	pool    *pgxpool.Pool
}

func newExchangeFixture(t *testing.T, configure ...func(*pgxpool.Config)) *exchangeFixture {
	t.Helper()
	clk := newClock()
	pool := newSchemaPool(t, configure...)
	require.NoError(t, postgres.Migrate(context.Background(), pool))
	s := postgres.New(pool, postgres.Config{Now: clk.Now})
	g := newGrant(t, clk.Now())
	_, access := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
	_, refresh := newToken(t, storage.KindRefresh, g.ID, clk.Now(), 24*time.Hour)
	require.NoError(t, s.CreateGrant(context.Background(), g, access, refresh))
	return &exchangeFixture{s: s, clk: clk, grant: g, access: access, refresh: refresh, pool: pool}
}

// rotation returns an Exchange of the fixture's refresh token for a new
// pair.
func (f *exchangeFixture) rotation(t *testing.T) (storage.Exchange, []storage.Token) {
	_, a := newToken(t, storage.KindAccess, f.grant.ID, f.clk.Now(), time.Hour)
	_, r := newToken(t, storage.KindRefresh, f.grant.ID, f.clk.Now(), 48*time.Hour)
	issue := []storage.Token{a, r}
	return storage.Exchange{Kind: storage.KindRefresh, Presented: ref(f.refresh), ClientID: f.grant.ClientID, Issue: issue}, issue
}

// Both paths race: without Check (one statement) and with one (a
// transaction).
func TestExchangeToken_ConcurrentExchangesHaveExactlyOneWinner(t *testing.T) {
	for _, withCheck := range []bool{false, true} {
		name := map[bool]string{false: "OneStatement", true: "WithCheck"}[withCheck]
		t.Run(name, func(t *testing.T) { testConcurrentExchanges(t, newExchangeFixture(t), withCheck) })
	}
}

// The store does not depend on the server's default isolation level: when
// it is stricter than read committed (default_transaction_isolation, set
// for the database or the role), the losers of a race still learn of the
// reuse and revoke the grant, rather than fail with a serialization error
// (an outage, 503) and leave the grant alive.
func TestExchangeToken_ConcurrentExchangesUnderAStricterDefaultIsolation(t *testing.T) {
	for _, iso := range []string{"repeatable read", "serializable"} {
		for _, withCheck := range []bool{false, true} {
			name := iso + "/" + map[bool]string{false: "OneStatement", true: "WithCheck"}[withCheck]
			t.Run(name, func(t *testing.T) {
				f := newExchangeFixture(t, func(cfg *pgxpool.Config) {
					cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = iso
				})
				testConcurrentExchanges(t, f, withCheck)
			})
		}
	}
}

func testConcurrentExchanges(t *testing.T, f *exchangeFixture, withCheck bool) {
	ctx := context.Background()

	const n = 16
	type result struct {
		issued []storage.Token
		err    error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		x, issued := f.rotation(t)
		if withCheck {
			x.Check = func(*storage.Grant) error { return nil }
		}
		wg.Go(func() {
			<-start
			_, err := f.s.ExchangeToken(ctx, x)
			results[i] = result{issued, err}
		})
	}
	close(start)
	wg.Wait()

	var winners, reused int
	var won []storage.Token
	for i, r := range results {
		if r.err == nil {
			winners++
			won = r.issued
			continue
		}
		// The losers queue on the token's row lock and then find it
		// consumed: each of them learns of the reuse.
		if assert.ErrorIs(t, r.err, storage.ErrTokenReused, "loser %d", i) {
			reused++
		}
	}
	require.Equal(t, 1, winners, "exactly one exchange wins")
	assert.Equal(t, n-1, reused)

	// The reuse revoked the grant, the winner's tokens included.
	for _, tk := range won {
		_, err := f.s.LookupToken(ctx, tk.Kind, ref(tk))
		assert.ErrorIs(t, err, storage.ErrNotFound, "winner's %s token after reuse", tk.Kind)
	}
}

func TestExchangeToken_ReuseRevokesTheGrantDurably(t *testing.T) {
	f := newExchangeFixture(t)
	ctx := context.Background()

	x, issued := f.rotation(t)
	g, err := f.s.ExchangeToken(ctx, x)
	require.NoError(t, err)
	assert.Equal(t, f.grant.ID, g.ID)
	assert.True(t, g.ExpiresAt.Equal(issued[1].ExpiresAt), "grant extended to the new refresh token's expiry")
	for _, tk := range issued {
		_, err := f.s.LookupToken(ctx, tk.Kind, ref(tk))
		require.NoError(t, err, "new %s token is live", tk.Kind)
	}
	_, err = f.s.LookupToken(ctx, storage.KindRefresh, ref(f.refresh))
	require.ErrorIs(t, err, storage.ErrNotFound, "consumed token is not live")

	again, _ := f.rotation(t)
	_, err = f.s.ExchangeToken(ctx, again)
	require.ErrorIs(t, err, storage.ErrTokenReused)

	// Seen from other connections, so the revocation was committed.
	for _, tk := range append(issued, f.access) {
		_, err := f.s.LookupToken(ctx, tk.Kind, ref(tk))
		assert.ErrorIs(t, err, storage.ErrNotFound, "%s token after reuse", tk.Kind)
	}
	_, err = f.s.ExchangeToken(ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: ref(issued[1]), ClientID: "c1"})
	assert.ErrorIs(t, err, storage.ErrNotFound, "the new refresh token died with the grant")
	_, err = f.s.ExchangeToken(ctx, again)
	assert.ErrorIs(t, err, storage.ErrTokenReused, "a consumed token stays reuse until it expires")
}

func TestExchangeToken_RefusalsChangeNothing(t *testing.T) {
	errCheck := errors.New("check refused")
	tests := []struct {
		name   string
		modify func(f *exchangeFixture, x *storage.Exchange)
		want   error
	}{
		{"another client's grant is not found", func(f *exchangeFixture, x *storage.Exchange) { x.ClientID = "c2" }, storage.ErrNotFound},
		{"another kind is not found", func(f *exchangeFixture, x *storage.Exchange) { x.Kind = storage.KindCode }, storage.ErrNotFound},
		{"a forged grant ID is not found", func(f *exchangeFixture, x *storage.Exchange) { x.Presented.GrantID = "AAAAAAAAAAAAAAAAAAAAAA" }, storage.ErrNotFound},
		{"an access token is not exchanged", func(f *exchangeFixture, x *storage.Exchange) { x.Presented = ref(f.access) }, storage.ErrNotFound},
		{"a check error is returned as is", func(f *exchangeFixture, x *storage.Exchange) {
			x.Check = func(*storage.Grant) error { return errCheck }
		}, errCheck},
		{"a taken hash is already exists", func(f *exchangeFixture, x *storage.Exchange) { x.Issue[0].Hash = f.access.Hash }, storage.ErrAlreadyExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newExchangeFixture(t)
			ctx := context.Background()
			x, _ := f.rotation(t)
			tt.modify(f, &x)
			_, err := f.s.ExchangeToken(ctx, x)
			require.ErrorIs(t, err, tt.want)

			// Nothing changed: the right exchange still succeeds once.
			ok, issued := f.rotation(t)
			_, err = f.s.ExchangeToken(ctx, ok)
			require.NoError(t, err)
			_, err = f.s.LookupToken(ctx, storage.KindAccess, ref(issued[0]))
			assert.NoError(t, err)
		})
	}
}

func TestExchangeToken_ExpiredTokenIsNotFoundNotReuse(t *testing.T) {
	f := newExchangeFixture(t)
	ctx := context.Background()
	x, _ := f.rotation(t)
	_, err := f.s.ExchangeToken(ctx, x)
	require.NoError(t, err)

	f.clk.Advance(24 * time.Hour) // the consumed token's expiry
	again, _ := f.rotation(t)
	_, err = f.s.ExchangeToken(ctx, again)
	require.ErrorIs(t, err, storage.ErrNotFound)
	_, err = f.s.LookupToken(ctx, storage.KindRefresh, ref(x.Issue[1]))
	assert.NoError(t, err, "grant not revoked")
}

// blockedBy returns how many backends wait on a lock that backend pid
// holds, or on one that a backend waiting for pid holds.
func blockedBy(pool *pgxpool.Pool, pid uint32) int {
	var n int
	err := pool.QueryRow(context.Background(), `with w as (
			select pid from pg_stat_activity where $1::int = any(pg_blocking_pids(pid)))
		select count(*) from pg_stat_activity a
		where a.pid in (select pid from w) or pg_blocking_pids(a.pid) && array(select pid from w)`, pid).Scan(&n)
	if err != nil {
		return -1
	}
	return n
}

// lockHolder begins a transaction on pool, runs lock (a statement that
// takes row locks) in it and returns it with its backend's pid, for
// blockedBy. The transaction is rolled back at the end of the test
// unless committed before.
func lockHolder(t *testing.T, pool *pgxpool.Pool, lock string, args ...any) (pgx.Tx, uint32) {
	t.Helper()
	ctx := context.Background()
	z, err := pool.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = z.Rollback(ctx) })
	var zpid uint32
	require.NoError(t, z.QueryRow(ctx, `select pg_backend_pid()`).Scan(&zpid))
	_, err = z.Exec(ctx, lock, args...)
	require.NoError(t, err)
	return z, zpid
}

// An exchange locks the grant row before the token row, as the janitor's
// delete does (the grant, then its tokens by cascade): in the other order
// an exchange of a dead grant's token and a janitor deleting that grant
// deadlock, and PostgreSQL aborts one of them after deadlock_timeout, an
// outage (503) for the exchange or an error for the janitor. A third
// transaction's share lock on the token row holds both at the point where
// their lock orders cross.
func TestExchangeToken_DoesNotDeadlockWithTheJanitor(t *testing.T) {
	for _, withCheck := range []bool{false, true} {
		t.Run(map[bool]string{false: "OneStatement", true: "WithCheck"}[withCheck], func(t *testing.T) {
			clk := newClock()
			s, pool := newStore(t, clk.Now)
			f := &exchangeFixture{s: s, clk: clk, grant: newGrant(t, clk.Now())}
			_, f.access = newToken(t, storage.KindAccess, f.grant.ID, clk.Now(), time.Hour)
			_, f.refresh = newToken(t, storage.KindRefresh, f.grant.ID, clk.Now(), 24*time.Hour)
			ctx := context.Background()
			require.NoError(t, s.CreateGrant(ctx, f.grant, f.access, f.refresh))
			require.NoError(t, s.RevokeGrant(ctx, f.grant.ID)) // the janitor may delete it now

			z, zpid := lockHolder(t, pool, `select from oauth2_tokens where hash = $1 for share`, f.refresh.Hash[:])

			x, _ := f.rotation(t)
			if withCheck {
				x.Check = func(*storage.Grant) error { return nil }
			}
			xerr := make(chan error, 1)
			go func() { _, err := s.ExchangeToken(ctx, x); xerr <- err }()
			require.Eventually(t, func() bool { return blockedBy(pool, zpid) == 1 }, 10*time.Second, 5*time.Millisecond,
				"the exchange waits for the token row")

			// The janitor skips the grant the exchange holds, or waits.
			jerr := make(chan error, 1)
			go func() { _, err := s.DeleteExpired(ctx, 100); jerr <- err }()
			var janitorErr error
			janitorDone := false
			require.Eventually(t, func() bool {
				select {
				case janitorErr = <-jerr:
					janitorDone = true
					return true
				default:
					return blockedBy(pool, zpid) == 2
				}
			}, 10*time.Second, 5*time.Millisecond)

			require.NoError(t, z.Commit(ctx))
			assert.ErrorIs(t, <-xerr, storage.ErrNotFound, "the refresh token of a revoked grant")
			if !janitorDone {
				janitorErr = <-jerr
			}
			assert.NoError(t, janitorErr, "the janitor")
		})
	}
}

// Check is shown a copy of the grant (storage.Exchange): what it does to
// that copy changes neither what is stored nor the grant ExchangeToken
// returns, which the provider answers with (user_id, scope).
func TestExchangeToken_CheckCannotChangeTheGrantReturnedOrStored(t *testing.T) {
	f := newExchangeFixture(t)
	ctx := context.Background()
	other := newGrant(t, f.clk.Now())
	require.NoError(t, f.s.CreateGrant(ctx, other))

	x, issued := f.rotation(t)
	x.Check = func(g *storage.Grant) error {
		g.ID = other.ID
		g.UserID = "someone-else"
		g.Scopes[0] = "admin"
		g.ExpiresAt = g.ExpiresAt.Add(24 * time.Hour)
		return nil
	}
	got, err := f.s.ExchangeToken(ctx, x)
	require.NoError(t, err)
	assert.Equal(t, f.grant.ID, got.ID)
	assert.Equal(t, f.grant.UserID, got.UserID)
	assert.Equal(t, f.grant.Scopes, got.Scopes)
	assert.True(t, got.ExpiresAt.Equal(issued[1].ExpiresAt), "expiry %v, want the new refresh token's %v", got.ExpiresAt, issued[1].ExpiresAt)
	for _, tk := range issued {
		ti, err := f.s.LookupToken(ctx, tk.Kind, ref(tk))
		if assert.NoError(t, err, "new %s token", tk.Kind) {
			assert.Equal(t, f.grant.ID, ti.Grant.ID, "new %s token's grant", tk.Kind)
		}
	}
}

// sqlRecorder is a pgx tracer that records the SQL of every statement
// sent, those of a batch included.
type sqlRecorder struct {
	mu  sync.Mutex
	sql []string
}

func (r *sqlRecorder) add(sql string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sql = append(r.sql, sql)
}

// take returns the SQL recorded since the last call and forgets it.
func (r *sqlRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	sql := r.sql
	r.sql = nil
	return sql
}

func (r *sqlRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.add(d.SQL)
	return ctx
}

func (r *sqlRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *sqlRecorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (r *sqlRecorder) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.add(d.SQL)
}

func (r *sqlRecorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// With a Check the exchange is a transaction: Config.AsyncExchange turns
// synchronous_commit off for a successful one, and only with it; the
// revocation on reuse commits synchronously either way.
func TestExchangeToken_WithCheckCommitsAsynchronouslyOnlyWhenConfigured(t *testing.T) {
	for _, async := range []bool{false, true} {
		t.Run(map[bool]string{false: "Sync", true: "AsyncExchange"}[async], func(t *testing.T) {
			rec := &sqlRecorder{}
			pool := newSchemaPool(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = rec })
			require.NoError(t, postgres.Migrate(context.Background(), pool))
			clk := newClock()
			s := postgres.New(pool, postgres.Config{Now: clk.Now, AsyncExchange: async})
			ctx := context.Background()
			g := newGrant(t, clk.Now())
			_, refresh := newToken(t, storage.KindRefresh, g.ID, clk.Now(), time.Hour)
			require.NoError(t, s.CreateGrant(ctx, g, refresh))
			asyncCommits := func() (n int) {
				for _, sql := range rec.take() {
					if strings.Contains(sql, "synchronous_commit") {
						n++
					}
				}
				return n
			}
			asyncCommits()

			_, a := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
			x := storage.Exchange{Kind: storage.KindRefresh, Presented: ref(refresh), ClientID: g.ClientID,
				Check: func(*storage.Grant) error { return nil }, Issue: []storage.Token{a}}
			_, err := s.ExchangeToken(ctx, x)
			require.NoError(t, err)
			assert.Equal(t, map[bool]int{false: 0, true: 1}[async], asyncCommits(), "statements setting synchronous_commit in a successful exchange")

			x.Issue = nil
			_, err = s.ExchangeToken(ctx, x)
			require.ErrorIs(t, err, storage.ErrTokenReused)
			assert.Zero(t, asyncCommits(), "statements setting synchronous_commit in the revocation on reuse")
		})
	}
}

// An exchange may issue more tokens than the statements built ahead of
// time cover (three), with and without a Check: each is stored.
func TestExchangeToken_IssuesAnyNumberOfTokens(t *testing.T) {
	for _, withCheck := range []bool{false, true} {
		t.Run(map[bool]string{false: "OneStatement", true: "WithCheck"}[withCheck], func(t *testing.T) {
			f := newExchangeFixture(t)
			ctx := context.Background()
			for n := range 6 {
				x, _ := f.rotation(t)
				x.Issue = nil
				for range n {
					_, tk := newToken(t, storage.KindAccess, f.grant.ID, f.clk.Now(), time.Hour)
					x.Issue = append(x.Issue, tk)
				}
				_, r := newToken(t, storage.KindRefresh, f.grant.ID, f.clk.Now(), 24*time.Hour)
				x.Issue = append(x.Issue, r)
				if withCheck {
					x.Check = func(*storage.Grant) error { return nil }
				}
				_, err := f.s.ExchangeToken(ctx, x)
				require.NoError(t, err, "exchange issuing %d tokens", len(x.Issue))
				for _, tk := range x.Issue {
					_, err := f.s.LookupToken(ctx, tk.Kind, ref(tk))
					require.NoError(t, err, "%s token of an exchange issuing %d", tk.Kind, len(x.Issue))
				}
				f.refresh = r
			}
		})
	}
}
