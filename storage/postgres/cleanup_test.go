package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// countRows returns the number of grants and of tokens stored.
func countRows(t *testing.T, pool *pgxpool.Pool) (grants, tokens int) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pool.QueryRow(ctx, "select count(*) from oauth2_grants").Scan(&grants))
	require.NoError(t, pool.QueryRow(ctx, "select count(*) from oauth2_tokens").Scan(&tokens))
	return grants, tokens
}

// drain calls DeleteExpired with limit until it returns a short batch and
// returns the total.
func drain(t *testing.T, c storage.Cleaner, limit int) int {
	t.Helper()
	total := 0
	for i := 0; ; i++ {
		require.Less(t, i, 1000, "DeleteExpired keeps returning full batches")
		n, err := c.DeleteExpired(context.Background(), limit)
		require.NoError(t, err)
		require.LessOrEqual(t, n, limit)
		total += n
		if n < limit {
			return total
		}
	}
}

func TestDeleteExpired_KeepsConsumedTokensOfRevokedGrantsUntilTheyExpire(t *testing.T) {
	clk := newClock()
	s, pool := newStore(t, clk.Now)
	ctx := context.Background()
	g := newGrant(t, clk.Now())
	_, access := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
	_, refresh := newToken(t, storage.KindRefresh, g.ID, clk.Now(), 2*time.Hour)
	require.NoError(t, s.CreateGrant(ctx, g, access, refresh))
	_, a2 := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
	_, r2 := newToken(t, storage.KindRefresh, g.ID, clk.Now(), 3*time.Hour)
	x := storage.Exchange{Kind: storage.KindRefresh, Presented: ref(refresh), ClientID: g.ClientID, Issue: []storage.Token{a2, r2}}
	_, err := s.ExchangeToken(ctx, x)
	require.NoError(t, err)
	require.NoError(t, s.RevokeGrant(ctx, g.ID))

	assert.Zero(t, drain(t, s, 1), "the consumed token keeps its revoked grant")
	_, err = s.ExchangeToken(ctx, x)
	assert.ErrorIs(t, err, storage.ErrTokenReused, "reuse is still detected after cleaning")

	clk.Advance(2 * time.Hour) // the consumed token and the first access tokens expire
	assert.Equal(t, 1, drain(t, s, 1), "the grant goes with its tokens")
	grants, tokens := countRows(t, pool)
	assert.Zero(t, grants)
	assert.Zero(t, tokens)
}

func TestDeleteExpired_RemovesExpiredTokensOfLiveGrants(t *testing.T) {
	clk := newClock()
	s, pool := newStore(t, clk.Now)
	ctx := context.Background()
	g := newGrant(t, clk.Now())
	var toks []storage.Token
	for range 5 {
		_, tk := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Minute)
		toks = append(toks, tk)
	}
	_, keep := newToken(t, storage.KindSession, g.ID, clk.Now(), time.Hour)
	require.NoError(t, s.CreateGrant(ctx, g, append(toks, keep)...))

	assert.Zero(t, drain(t, s, 2))
	clk.Advance(time.Minute)
	assert.Equal(t, 5, drain(t, s, 2))
	grants, tokens := countRows(t, pool)
	assert.Equal(t, 1, grants)
	assert.Equal(t, 1, tokens)
	_, err := s.LookupToken(ctx, storage.KindSession, ref(keep))
	assert.NoError(t, err)
}

// ExtendToken locks the grant before the token, like the janitor: a
// session extended while its grant is revoked and deleted must not
// deadlock with the janitor (which aborts one of them after
// deadlock_timeout). A third transaction's share lock on the token row
// holds the extension at the point where the lock orders would cross.
func TestExtendToken_DoesNotDeadlockWithTheJanitor(t *testing.T) {
	clk := newClock()
	s, pool := newStore(t, clk.Now)
	ctx := context.Background()
	g := newGrant(t, clk.Now())
	_, session := newToken(t, storage.KindSession, g.ID, clk.Now(), time.Hour)
	require.NoError(t, s.CreateGrant(ctx, g, session))

	z, zpid := lockHolder(t, pool, `select from oauth2_tokens where hash = $1 for share`, session.Hash[:])

	// run starts f and waits until it returned or waits behind z.
	run := func(f func() error) <-chan error {
		n := blockedBy(pool, zpid)
		done := make(chan error, 1)
		go func() { done <- f() }()
		require.Eventually(t, func() bool { return len(done) == 1 || blockedBy(pool, zpid) > n },
			10*time.Second, 5*time.Millisecond)
		return done
	}
	extended := run(func() error { return s.ExtendToken(ctx, ref(session), clk.Now().Add(2*time.Hour)) })
	// Meanwhile the grant is revoked (or that waits for the extension),
	// and the janitor deletes it (or finds nothing to delete).
	revoked := run(func() error { return s.RevokeGrant(ctx, g.ID) })
	cleaned := run(func() error { _, err := s.DeleteExpired(ctx, 100); return err })

	require.NoError(t, z.Commit(ctx))
	err := <-extended
	assert.True(t, err == nil || errors.Is(err, storage.ErrNotFound), "the extension: %v", err)
	assert.NoError(t, <-revoked, "the revocation")
	assert.NoError(t, <-cleaned, "the janitor")
}

// Each batch of the janitor reads about as many rows as it deletes,
// through the indexes, not the whole of oauth2_grants or oauth2_tokens:
// on a large store a table scan per batch of a thousand makes draining a
// backlog quadratic, and every run of a janitor with nothing to do a
// full read of both tables. pgx prepares its statements, so the server
// may plan them for any parameters (a generic plan) or for the given
// ones (a custom plan): both must use the indexes.
func TestDeleteExpired_ScansIndexesNotTables(t *testing.T) {
	pool := newSchemaPool(t)
	ctx := context.Background()
	require.NoError(t, postgres.Migrate(ctx, pool))
	// 20000 grants: 1% expired, 1.4% revoked; two tokens each, the
	// refresh tokens of a third consumed.
	_, err := pool.Exec(ctx, `
		insert into oauth2_grants (id, client_id, user_id, created_at, expires_at, revoked_at)
		select 'g' || i, 'c' || (i % 20), 'u' || (i % 3000), now(),
			now() + case when i % 100 = 0 then interval '-1 day' else interval '30 days' end,
			case when i % 70 = 0 then now() end
		from generate_series(1, 20000) i`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `
		insert into oauth2_tokens (hash, grant_id, kind, issued_at, expires_at, consumed_at)
		select sha256(('t' || i || '-' || k)::bytea), 'g' || i, k, now(),
			now() + case when k = 1 then interval '-1 hour' else interval '30 days' end,
			case when k = 2 and i % 3 = 0 then now() end
		from generate_series(1, 20000) i, generate_series(1, 2) k`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `analyze`)
	require.NoError(t, err)

	// The index each statement picks its rows by, in its order: a plan
	// that filters another index, or sorts what it found, reads every
	// row that could match.
	pickedBy := map[string]string{
		"expired grants": "oauth2_grants_expires_at",
		"revoked grants": "oauth2_grants_revoked",
		"tokens":         "oauth2_tokens_expires_at",
	}
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	for name, sql := range postgres.JanitorSQL {
		for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
			_, err := conn.Exec(ctx, `set plan_cache_mode = `+mode)
			require.NoError(t, err)
			_, err = conn.Exec(ctx, `deallocate all`)
			require.NoError(t, err)
			_, err = conn.Exec(ctx, `prepare janitor (timestamptz, bigint) as `+sql)
			require.NoError(t, err)
			var plan strings.Builder
			rows, err := conn.Query(ctx, `explain execute janitor (now(), 1000)`, pgx.QueryExecModeSimpleProtocol)
			require.NoError(t, err)
			for rows.Next() {
				var line string
				require.NoError(t, rows.Scan(&line))
				plan.WriteString(line + "\n")
			}
			require.NoError(t, rows.Err())
			assert.NotContains(t, plan.String(), "Seq Scan", "%s, %s:\n%s", name, mode, plan.String())
			assert.Contains(t, plan.String(), " using "+pickedBy[name]+" on ", "%s, %s:\n%s", name, mode, plan.String())
			assert.NotContains(t, plan.String(), "Sort", "%s, %s:\n%s", name, mode, plan.String())
			// A hashed subplan reads every row it could match (every
			// unexpired consumed token) to build its hash.
			assert.NotContains(t, plan.String(), "hashed SubPlan", "%s, %s:\n%s", name, mode, plan.String())
		}
	}
	_, err = conn.Exec(ctx, `deallocate all; reset plan_cache_mode`)
	require.NoError(t, err)
}

// A janitor skips the rows another transaction holds instead of waiting
// for them (a long exchange, or another janitor): it removes them on a
// later run. Each of its three statements skips: an expired grant, a
// revoked one and an expired token of a live grant, all locked.
func TestDeleteExpired_SkipsRowsAnotherTransactionHolds(t *testing.T) {
	clk := newClock()
	s, pool := newStore(t, clk.Now)
	ctx := context.Background()

	expired := newGrant(t, clk.Now())
	expired.ExpiresAt = clk.Now().Add(time.Minute)
	_, expiredTok := newToken(t, storage.KindAccess, expired.ID, clk.Now(), time.Minute)
	require.NoError(t, s.CreateGrant(ctx, expired, expiredTok))
	revoked := newGrant(t, clk.Now())
	_, revokedTok := newToken(t, storage.KindAccess, revoked.ID, clk.Now(), time.Hour)
	require.NoError(t, s.CreateGrant(ctx, revoked, revokedTok))
	require.NoError(t, s.RevokeGrant(ctx, revoked.ID))
	live := newGrant(t, clk.Now())
	_, short := newToken(t, storage.KindAccess, live.ID, clk.Now(), time.Minute)
	_, keep := newToken(t, storage.KindSession, live.ID, clk.Now(), time.Hour)
	require.NoError(t, s.CreateGrant(ctx, live, short, keep))
	clk.Advance(time.Minute)

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `select 1 from oauth2_grants where id = any($1) for update`, []string{expired.ID, revoked.ID})
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `select 1 from oauth2_tokens where hash = any($1) for update`, [][]byte{short.Hash[:], expiredTok.Hash[:]})
	require.NoError(t, err)

	wait, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	n, err := s.DeleteExpired(wait, 10)
	require.NoError(t, err, "the janitor waited on a locked row")
	assert.Zero(t, n, "every record it could remove is locked")

	require.NoError(t, tx.Rollback(ctx))
	assert.Equal(t, 3, drain(t, s, 10), "the expired grant, the revoked one and the expired token, once free")
	grants, tokens := countRows(t, pool)
	assert.Equal(t, 1, grants)
	assert.Equal(t, 1, tokens)
}

// A limit below 1 removes nothing, and is no error: the server refuses a
// negative LIMIT.
func TestDeleteExpired_LimitBelowOneRemovesNothing(t *testing.T) {
	clk := newClock()
	s, pool := newStore(t, clk.Now)
	ctx := context.Background()
	g := newGrant(t, clk.Now())
	g.ExpiresAt = clk.Now().Add(time.Minute)
	_, tk := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Minute)
	require.NoError(t, s.CreateGrant(ctx, g, tk))
	clk.Advance(time.Minute)

	for _, limit := range []int{0, -1} {
		n, err := s.DeleteExpired(ctx, limit)
		require.NoError(t, err, "limit %d", limit)
		assert.Zero(t, n, "limit %d", limit)
	}
	grants, tokens := countRows(t, pool)
	assert.Equal(t, 1, grants)
	assert.Equal(t, 1, tokens)
}

// A batch that the first of the janitor's statements fills ends there:
// the next ones, with a limit of 0 left, could remove nothing.
func TestDeleteExpired_StopsOnceTheLimitIsReached(t *testing.T) {
	s, clk, counter := newCountedStore(t)
	ctx := context.Background()
	for range 2 {
		g := newGrant(t, clk.Now())
		g.ExpiresAt = clk.Now().Add(time.Minute)
		_, tk := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Minute)
		require.NoError(t, s.CreateGrant(ctx, g, tk))
	}
	clk.Advance(time.Minute)
	counter.reset()
	n, err := s.DeleteExpired(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, int64(1), counter.queries.Load(), "statements sent")
}

// A limit below 1 asks nothing of the server: a janitor configured with
// a batch of 0 sends no statement (a LIMIT 0 would remove nothing too,
// at the cost of a round trip, and fail when the server is away).
func TestDeleteExpired_LimitBelowOneSendsNoStatement(t *testing.T) {
	s, _, counter := newCountedStore(t)
	counter.reset()
	for _, limit := range []int{0, -1} {
		n, err := s.DeleteExpired(context.Background(), limit)
		require.NoError(t, err, "limit %d", limit)
		assert.Zero(t, n, "limit %d", limit)
	}
	assert.Zero(t, counter.queries.Load(), "statements sent")
}

// cancelAfter is a pgx tracer that calls cancel once a statement with
// the text sql has ended.
type cancelAfter struct {
	sql    string
	seen   atomic.Bool
	cancel context.CancelFunc
}

func (c *cancelAfter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if data.SQL == c.sql {
		c.seen.Store(true)
	}
	return ctx
}

func (c *cancelAfter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {
	if c.seen.Load() {
		c.cancel()
	}
}

// A janitor run that fails part way still counts what it removed before
// (each statement commits on its own): its caller learns how much went.
func TestDeleteExpired_CountsWhatItRemovedBeforeAnError(t *testing.T) {
	tracer := &cancelAfter{sql: postgres.JanitorSQL["expired grants"]}
	pool := newSchemaPool(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = tracer })
	s, clk := newClockedStore(t, pool)
	ctx := context.Background()
	g := newGrant(t, clk.Now())
	g.ExpiresAt = clk.Now().Add(time.Minute)
	require.NoError(t, s.CreateGrant(ctx, g))
	clk.Advance(time.Minute)

	run, cancel := context.WithCancel(ctx)
	defer cancel()
	tracer.cancel = cancel
	n, err := s.DeleteExpired(run, 10)
	require.Error(t, err, "the statements after the first one's end are canceled")
	assert.Equal(t, 1, n, "the expired grant was removed")
	grants, _ := countRows(t, pool)
	assert.Zero(t, grants)
}
