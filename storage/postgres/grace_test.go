package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// graceRun runs test on the one-statement path and on the one with a
// Check.
func graceRun(t *testing.T, test func(t *testing.T, f *exchangeFixture, check func(*storage.Grant) error)) {
	for _, withCheck := range []bool{false, true} {
		t.Run(map[bool]string{false: "OneStatement", true: "WithCheck"}[withCheck], func(t *testing.T) {
			var check func(*storage.Grant) error
			if withCheck {
				check = func(*storage.Grant) error { return nil }
			}
			test(t, newExchangeFixture(t), check)
		})
	}
}

// graceExchange exchanges the fixture's refresh token with the grace and
// check, for a new pair.
func graceExchange(t *testing.T, f *exchangeFixture, grace time.Duration, check func(*storage.Grant) error) error {
	x, _ := f.rotation(t)
	x.ReuseGrace, x.Check = grace, check
	_, err := f.s.ExchangeToken(context.Background(), x)
	return err
}

// consumedAt returns the stored consumed_at of the fixture's refresh token.
func consumedAt(t *testing.T, f *exchangeFixture) time.Time {
	var c time.Time
	require.NoError(t, f.pool.QueryRow(context.Background(),
		`select consumed_at from oauth2_tokens where hash = $1`, f.refresh.Hash[:]).Scan(&c))
	return c.UTC()
}

// Within the grace the stored consumed_at is not rewritten, on either
// path, so the grace ends where the first consumption's does; nor is the
// grant's last_consumed_at, as nothing was consumed (a later instant
// there would push the instant the grant's next consumption records past
// the clock of the instance that makes it, and that token's grace with
// it).
func TestExchangeToken_ReuseGraceDoesNotSlide(t *testing.T) {
	graceRun(t, func(t *testing.T, f *exchangeFixture, check func(*storage.Grant) error) {
		const grace = 30 * time.Second
		require.NoError(t, graceExchange(t, f, grace, check), "the first exchange")
		first := consumedAt(t, f)
		f.clk.Advance(grace / 2)
		require.NoError(t, graceExchange(t, f, grace, check), "within the grace")
		assert.Equal(t, first, consumedAt(t, f), "consumed_at rewritten")
		var last time.Time
		require.NoError(t, f.pool.QueryRow(context.Background(),
			`select last_consumed_at from oauth2_grants where id = $1`, f.grant.ID).Scan(&last))
		assert.True(t, first.Equal(last), "last_consumed_at %v, the only consumption at %v", last, first)
		f.clk.Advance(grace / 2)
		assert.ErrorIs(t, graceExchange(t, f, grace, check), storage.ErrTokenReused, "past the first consumption's grace")
	})
}

// Postgres keeps microseconds: a token consumed at a sub-microsecond
// instant is stored as the microsecond before it, and both paths judge
// the grace against that stored instant alike, with a grace that has a
// sub-microsecond part too (not truncated on the one-statement path).
func TestExchangeToken_ReuseGraceIsJudgedAlikeToTheNanosecond(t *testing.T) {
	const grace = 30*time.Second + 500*time.Nanosecond
	graceRun(t, func(t *testing.T, f *exchangeFixture, check func(*storage.Grant) error) {
		f.clk.Advance(700 * time.Nanosecond)
		require.NoError(t, graceExchange(t, f, grace, check), "the first exchange")
		stored := consumedAt(t, f)
		require.Equal(t, t0, stored, "consumed_at is the microsecond before")

		f.clk.Advance(stored.Add(grace - 200*time.Nanosecond).Sub(f.clk.Now()))
		require.NoError(t, graceExchange(t, f, grace, check), "200 ns before the stored consumption's grace ends")
		f.clk.Advance(200 * time.Nanosecond)
		assert.ErrorIs(t, graceExchange(t, f, grace, check), storage.ErrTokenReused, "where it ends")
	})
}

// A zero grace is none, even for a token that an instance whose clock is
// ahead consumed "after" this instance's now; so is a negative one.
func TestExchangeToken_NoGraceForATokenConsumedInTheFuture(t *testing.T) {
	for _, grace := range []time.Duration{0, -time.Minute} {
		graceRun(t, func(t *testing.T, f *exchangeFixture, check func(*storage.Grant) error) {
			f.clk.Advance(time.Minute)
			require.NoError(t, graceExchange(t, f, 0, check), "the first exchange, by a clock ahead")
			f.clk.Advance(-time.Minute)
			assert.ErrorIs(t, graceExchange(t, f, grace, check), storage.ErrTokenReused, "grace %v", grace)
		})
	}
}

// An exchange within the grace without a Check is one statement, as any
// refresh without one.
func TestExchangeToken_WithinTheGraceIsOneStatement(t *testing.T) {
	s, clk, counter := newCountedStore(t)
	ctx := context.Background()
	g := newGrant(t, clk.Now())
	_, refresh := newToken(t, storage.KindRefresh, g.ID, clk.Now(), 24*time.Hour)
	require.NoError(t, s.CreateGrant(ctx, g, refresh))
	exchange := func() {
		_, a := newToken(t, storage.KindAccess, g.ID, clk.Now(), time.Hour)
		_, r := newToken(t, storage.KindRefresh, g.ID, clk.Now(), 48*time.Hour)
		_, err := s.ExchangeToken(ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: ref(refresh),
			ClientID: g.ClientID, Issue: []storage.Token{a, r}, ReuseGrace: time.Minute})
		require.NoError(t, err)
	}
	exchange() // consumes, and prepares
	counter.reset()
	exchange()
	assert.Equal(t, int64(1), counter.queries.Load(), "statements per exchange within the grace")
	assert.Zero(t, counter.prepares.Load(), "prepares per warm exchange")
}

// A consumed token of a revoked grant is reuse within the grace too, on
// either path.
func TestExchangeToken_NoGraceOnARevokedGrant(t *testing.T) {
	graceRun(t, func(t *testing.T, f *exchangeFixture, check func(*storage.Grant) error) {
		require.NoError(t, graceExchange(t, f, time.Minute, check), "the first exchange")
		require.NoError(t, f.s.RevokeGrant(context.Background(), f.grant.ID))
		assert.ErrorIs(t, graceExchange(t, f, time.Minute, check), storage.ErrTokenReused)
	})
}

// The grace ends once a token of the grant is consumed after the
// presented one, on either path: on a branch too (a token issued by an
// exchange within the grace). "After" is the order in which the
// exchanges ran, not what the clock read: one consumed at the same
// instant (to the microsecond stored) records the next microsecond and
// ends it too.
func TestExchangeToken_ReuseGraceEndsOnceTheChainMovesOn(t *testing.T) {
	graceRun(t, func(t *testing.T, f *exchangeFixture, check func(*storage.Grant) error) {
		ctx := context.Background()
		first := f.refresh
		x, issued := f.rotation(t)
		x.ReuseGrace, x.Check = time.Minute, check
		_, err := f.s.ExchangeToken(ctx, x)
		require.NoError(t, err, "the first exchange")

		// The issued refresh token consumed at the same instant.
		f.refresh = issued[1]
		require.NoError(t, graceExchange(t, f, time.Minute, check), "the next token, at the same instant")
		f.refresh = first
		assert.ErrorIs(t, graceExchange(t, f, time.Minute, check), storage.ErrTokenReused, "consumed after, at the same instant")
		_, err = f.s.LookupToken(ctx, storage.KindAccess, ref(issued[0]))
		assert.ErrorIs(t, err, storage.ErrNotFound, "reuse revokes the grant")

		f = newExchangeFixture(t)
		first = f.refresh
		require.NoError(t, graceExchange(t, f, time.Minute, check), "the first exchange")
		f.clk.Advance(time.Second)
		x, issued = f.rotation(t)
		x.ReuseGrace, x.Check = time.Minute, check
		_, err = f.s.ExchangeToken(ctx, x)
		require.NoError(t, err, "within the grace")
		f.refresh = issued[1]
		f.clk.Advance(time.Second)
		require.NoError(t, graceExchange(t, f, time.Minute, check), "a branch moves on")
		f.refresh = first
		f.clk.Advance(time.Second)
		assert.ErrorIs(t, graceExchange(t, f, time.Minute, check), storage.ErrTokenReused, "the chain moved on")
		_, err = f.s.LookupToken(ctx, storage.KindAccess, ref(issued[0]))
		assert.ErrorIs(t, err, storage.ErrNotFound, "reuse revokes the grant")
	})
}

// A grant's consumptions record strictly increasing instants whatever the
// store's clock: a store whose clock is behind the grant's latest
// consumption (as an instance two minutes ahead recorded it) records one
// microsecond past it, on either path, so the token consumed before still
// sees the chain as moved on, and presenting it again within its grace is
// reuse.
func TestExchangeToken_ConsumptionsIncreaseAcrossClocks(t *testing.T) {
	graceRun(t, func(t *testing.T, f *exchangeFixture, check func(*storage.Grant) error) {
		const grace = 30 * time.Second
		ctx := context.Background()
		x, next := f.rotation(t)
		x.ReuseGrace, x.Check = grace, check
		_, err := f.s.ExchangeToken(ctx, x)
		require.NoError(t, err)
		ahead := f.clk.Now().Add(2 * time.Minute).Truncate(time.Microsecond)
		_, err = f.pool.Exec(ctx, `update oauth2_tokens set consumed_at = $2 where hash = $1`, f.refresh.Hash[:], ahead)
		require.NoError(t, err)
		_, err = f.pool.Exec(ctx, `update oauth2_grants set last_consumed_at = $2 where id = $1`, f.grant.ID, ahead)
		require.NoError(t, err)

		f.clk.Advance(time.Second)
		_, a := newToken(t, storage.KindAccess, f.grant.ID, f.clk.Now(), time.Hour)
		_, r := newToken(t, storage.KindRefresh, f.grant.ID, f.clk.Now(), 48*time.Hour)
		x2 := storage.Exchange{Kind: storage.KindRefresh, Presented: ref(next[1]), ClientID: f.grant.ClientID,
			Issue: []storage.Token{a, r}, ReuseGrace: grace, Check: check}
		_, err = f.s.ExchangeToken(ctx, x2)
		require.NoError(t, err)
		var at, last time.Time
		require.NoError(t, f.pool.QueryRow(ctx, `select consumed_at from oauth2_tokens where hash = $1`, next[1].Hash[:]).Scan(&at))
		require.NoError(t, f.pool.QueryRow(ctx, `select last_consumed_at from oauth2_grants where id = $1`, f.grant.ID).Scan(&last))
		assert.True(t, ahead.Add(time.Microsecond).Equal(at), "one past the latest consumption: %v, want %v", at, ahead.Add(time.Microsecond))
		assert.True(t, at.Equal(last), "the grant records it: %v", last)

		f.clk.Advance(time.Second)
		assert.ErrorIs(t, graceExchange(t, f, grace, check), storage.ErrTokenReused, "the chain moved on")
	})
}

// Every consumption moves the grant's last_consumed_at, also one whose
// new tokens expire within the grant (which moves no expiry and sets no
// binding), and a consumption at an instant within the microsecond of
// the latest one (the precision Postgres keeps) records the next
// microsecond: three exchanges down the chain at one instant record
// increasing instants, so the second token, presented again, is reuse.
func TestExchangeToken_EveryConsumptionRecordsTheNextInstant(t *testing.T) {
	graceRun(t, func(t *testing.T, f *exchangeFixture, check func(*storage.Grant) error) {
		const grace = 30 * time.Second
		ctx := context.Background()
		lastConsumed := func() time.Time {
			var last time.Time
			require.NoError(t, f.pool.QueryRow(ctx, `select last_consumed_at from oauth2_grants where id = $1`, f.grant.ID).Scan(&last))
			return last
		}
		tokenConsumed := func(tok storage.Token) time.Time {
			var at time.Time
			require.NoError(t, f.pool.QueryRow(ctx, `select consumed_at from oauth2_tokens where hash = $1`, tok.Hash[:]).Scan(&at))
			return at
		}
		// within returns an exchange of presented for a pair that expires
		// within the grant.
		within := func(presented storage.Token) (storage.Exchange, storage.Token) {
			_, a := newToken(t, storage.KindAccess, f.grant.ID, f.clk.Now(), time.Minute)
			_, r := newToken(t, storage.KindRefresh, f.grant.ID, f.clk.Now(), time.Hour)
			return storage.Exchange{Kind: storage.KindRefresh, Presented: ref(presented), ClientID: f.grant.ClientID,
				Issue: []storage.Token{a, r}, ReuseGrace: grace, Check: check}, r
		}

		x, next := f.rotation(t)
		x.ReuseGrace, x.Check = grace, check
		_, err := f.s.ExchangeToken(ctx, x)
		require.NoError(t, err)
		l := lastConsumed()
		// 400 ns into the microsecond of the first consumption.
		f.clk.Advance(l.Add(400 * time.Nanosecond).Sub(f.clk.Now()))

		x2, r3 := within(next[1])
		_, err = f.s.ExchangeToken(ctx, x2)
		require.NoError(t, err)
		at2 := tokenConsumed(next[1])
		assert.True(t, l.Add(time.Microsecond).Equal(at2), "the next microsecond: %v, want %v", at2, l.Add(time.Microsecond))
		assert.True(t, at2.Equal(lastConsumed()), "the grant records it though no expiry moved: %v", lastConsumed())

		x3, _ := within(r3)
		_, err = f.s.ExchangeToken(ctx, x3)
		require.NoError(t, err)
		assert.True(t, tokenConsumed(r3).After(at2), "consumed after the second: %v, %v", tokenConsumed(r3), at2)

		x4, _ := within(next[1])
		_, err = f.s.ExchangeToken(ctx, x4)
		assert.ErrorIs(t, err, storage.ErrTokenReused, "the chain moved on past the presented token")
	})
}

// last_consumed_at is an instant, as consumed_at is, not a wall-clock
// time of the session's TimeZone: a store whose sessions run in another
// time zone than UTC records the consumption's instant on the grant.
func TestExchangeToken_LastConsumedIsAnInstant(t *testing.T) {
	f := newExchangeFixture(t, func(cfg *pgxpool.Config) {
		cfg.ConnConfig.RuntimeParams["timezone"] = "Asia/Kolkata"
	})
	ctx := context.Background()
	x, _ := f.rotation(t)
	x.ReuseGrace = 30 * time.Second
	_, err := f.s.ExchangeToken(ctx, x)
	require.NoError(t, err)
	var at, last time.Time
	require.NoError(t, f.pool.QueryRow(ctx, `select t.consumed_at, g.last_consumed_at from oauth2_tokens t
		join oauth2_grants g on g.id = t.grant_id where t.hash = $1`, f.refresh.Hash[:]).Scan(&at, &last))
	assert.True(t, at.Equal(last), "consumed at %v, recorded %v", at, last)
}
