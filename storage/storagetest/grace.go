package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/gate"
	"github.com/oauth2provider/oauth2provider/storage"
)

// graceClauses check Exchange.ReuseGrace: a consumed refresh token
// presented again within the grace is exchanged again; past it, for a
// code, or on a revoked grant, it is reuse as ever.
var graceClauses = []clause{
	{"WithinGraceExchangesAgain", testGraceExchangesAgain},
	{"GraceRunsFromFirstConsumption", testGraceFromFirstConsumption},
	{"PastGraceIsReuse", testGracePast},
	{"ChainMovedOnIsReuse", testGraceChainMovedOn},
	{"ChainMovedOnAtTheSameInstantIsReuse", testGraceChainMovedOnSameInstant},
	{"ChainMovedOnTwiceAtTheSameInstantIsReuse", testGraceChainMovedOnTwiceSameInstant},
	{"AnotherGrantMovingOnKeepsTheGrace", testGraceAnotherGrantMovedOn},
	{"NoGraceForCodes", testGraceNotForCodes},
	{"RevokedGrantIsReuse", testGraceRevokedGrant},
	{"CheckErrorChangesNothing", testGraceCheckError},
	{"RepeatedNewHashIsAlreadyExists", testGraceRepeatedHash},
	{"ConcurrentWithinGraceAllExchange", testGraceConcurrent},
}

// reuseGrace is the grace the clauses give.
const reuseGrace = 30 * time.Second

// graceExchange is refreshExchange with ReuseGrace set.
func graceExchange(presented minted, clientID string, next ...minted) storage.Exchange {
	x := refreshExchange(presented, clientID, next...)
	x.ReuseGrace = reuseGrace
	return x
}

// rotated stores a grant and rotates its refresh token once, with the
// grace, and returns the grant with the tokens that rotation issued.
func (e *env) rotated(t *testing.T) (f fixture, a2, r2 minted) {
	t.Helper()
	f = e.storedGrant(t, "client-a", "user-1")
	a2, r2 = e.nextPair(t, f.g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, graceExchange(f.refresh, "client-a", a2, r2))
	require.NoError(t, err, "the first exchange")
	return f, a2, r2
}

// testGraceExchangesAgain: within the grace, the consumed token is
// exchanged again: the new tokens are stored, the grant is returned, the
// first exchange's tokens stay live, and the token stays consumed (a
// lookup does not find it).
func testGraceExchangesAgain(t *testing.T, e *env) {
	f, a2, r2 := e.rotated(t)
	e.clk.Advance(reuseGrace - time.Second)
	a3, r3 := e.nextPair(t, f.g.ID)
	g, err := e.b.Tokens.ExchangeToken(e.ctx, graceExchange(f.refresh, "client-a", a3, r3))
	require.NoError(t, err, "presented again within the grace")
	assertGrant(t, f.g, g)
	for _, m := range []minted{f.access, a2, r2, a3, r3} {
		e.assertLive(t, m, "%v token", m.tok.Kind)
	}
	e.assertGone(t, f.refresh, "the token stays consumed")

	// Each branch goes on as a chain of its own.
	a4, r4 := e.nextPair(t, f.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(r3, "client-a", a4, r4))
	require.NoError(t, err, "the token the second exchange issued")
	a5, r5 := e.nextPair(t, f.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(r2, "client-a", a5, r5))
	require.NoError(t, err, "the token the first exchange issued")
	e.assertLive(t, r4)
	e.assertLive(t, r5)
}

// testGraceFromFirstConsumption: presenting the token again within the
// grace does not move its start: past the first consumption's grace it is
// reuse, which revokes every branch.
func testGraceFromFirstConsumption(t *testing.T, e *env) {
	f, a2, r2 := e.rotated(t)
	e.clk.Advance(reuseGrace / 2)
	a3, r3 := e.nextPair(t, f.g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, graceExchange(f.refresh, "client-a", a3, r3))
	require.NoError(t, err, "within the grace")

	e.clk.Advance(reuseGrace / 2)
	a4, r4 := e.nextPair(t, f.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, graceExchange(f.refresh, "client-a", a4, r4))
	assert.ErrorIs(t, err, storage.ErrTokenReused, "the grace ends where the first consumption's does")
	assertReuseNames(t, err, f.g, "the reuse")
	for _, m := range []minted{f.access, a2, r2, a3, r3, a4, r4} {
		e.assertGone(t, m, "reuse revokes the grant (%v token)", m.tok.Kind)
	}
}

// testGracePast: at the end of the grace the token is reuse, and without
// a grace (zero) it is reuse at once.
func testGracePast(t *testing.T, e *env) {
	f, a2, r2 := e.rotated(t)
	e.clk.Advance(reuseGrace)
	a3, r3 := e.nextPair(t, f.g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, graceExchange(f.refresh, "client-a", a3, r3))
	assert.ErrorIs(t, err, storage.ErrTokenReused, "at the end of the grace")
	for _, m := range []minted{a2, r2, a3, r3} {
		e.assertGone(t, m, "reuse revokes the grant (%v token)", m.tok.Kind)
	}

	g, _, _ := e.rotated(t)
	a3, r3 = e.nextPair(t, g.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(g.refresh, "client-a", a3, r3))
	assert.ErrorIs(t, err, storage.ErrTokenReused, "no grace asked for")
}

// testGraceNotForCodes: a code presented again is reuse whatever the
// grace, and revokes what it gave.
func testGraceNotForCodes(t *testing.T, e *env) {
	g, code := e.storedCode(t)
	a1, r1 := e.nextPair(t, g.ID)
	x := codeExchange(code, "spa", a1, r1)
	x.ReuseGrace = reuseGrace
	_, err := e.b.Tokens.ExchangeToken(e.ctx, x)
	require.NoError(t, err)

	a2, r2 := e.nextPair(t, g.ID)
	x = codeExchange(code, "spa", a2, r2)
	x.ReuseGrace = reuseGrace
	_, err = e.b.Tokens.ExchangeToken(e.ctx, x)
	assert.ErrorIs(t, err, storage.ErrTokenReused)
	for _, m := range []minted{a1, r1, a2, r2} {
		e.assertGone(t, m, "a reused code revokes the grant (%v token)", m.tok.Kind)
	}
}

// testGraceRevokedGrant: a consumed token of a revoked grant is reuse
// within the grace too, and nothing is issued, whether the grant was
// revoked by itself, with its user's or with its client's.
func testGraceRevokedGrant(t *testing.T, e *env) {
	for name, revoke := range map[string]func(f fixture) error{
		"grant": func(f fixture) error { return e.b.Tokens.RevokeGrant(e.ctx, f.g.ID) },
		"user": func(f fixture) error {
			_, err := e.b.Tokens.RevokeUser(e.ctx, f.g.UserID)
			return err
		},
		"client": func(f fixture) error {
			_, err := e.b.Tokens.RevokeClient(e.ctx, f.g.ClientID)
			return err
		},
	} {
		f, _, _ := e.rotated(t)
		require.NoError(t, revoke(f), name)
		a3, r3 := e.nextPair(t, f.g.ID)
		_, err := e.b.Tokens.ExchangeToken(e.ctx, graceExchange(f.refresh, "client-a", a3, r3))
		assert.ErrorIs(t, err, storage.ErrTokenReused, "revoked by %s", name)
		e.assertGone(t, a3, "nothing issued (revoked by %s)", name)
		e.assertGone(t, r3, "nothing issued (revoked by %s)", name)
	}
}

// testGraceCheckError: Check runs on an exchange within the grace, and
// its error changes nothing: nothing is issued, nothing revoked, and the
// grace still holds.
func testGraceCheckError(t *testing.T, e *env) {
	f, a2, r2 := e.rotated(t)
	a3, r3 := e.nextPair(t, f.g.ID)
	x := graceExchange(f.refresh, "client-a", a3, r3)
	refused := errors.New("refused by Check")
	var seen *storage.Grant
	x.Check = func(g *storage.Grant) error {
		c := *g
		seen = &c
		return refused
	}
	_, err := e.b.Tokens.ExchangeToken(e.ctx, x)
	assert.ErrorIs(t, err, refused)
	if assert.NotNil(t, seen, "Check ran") {
		assertGrant(t, f.g, seen)
	}
	e.assertGone(t, a3, "nothing issued")
	e.assertGone(t, r3, "nothing issued")
	e.assertLive(t, a2, "nothing revoked")
	e.assertLive(t, r2, "nothing revoked")

	x.Check = func(*storage.Grant) error { return nil }
	_, err = e.b.Tokens.ExchangeToken(e.ctx, x)
	require.NoError(t, err, "still within the grace")
	e.assertLive(t, r3)
}

// testGraceRepeatedHash: an exchange within the grace that would issue a
// hash the grant holds is ErrAlreadyExists, as any exchange's is, and
// revokes nothing.
func testGraceRepeatedHash(t *testing.T, e *env) {
	f, a2, r2 := e.rotated(t)
	a3, _ := e.nextPair(t, f.g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, graceExchange(f.refresh, "client-a", a3, r2))
	assert.ErrorIs(t, err, storage.ErrAlreadyExists)
	e.assertGone(t, a3, "nothing issued")
	e.assertLive(t, a2, "nothing revoked")
	e.assertLive(t, r2, "nothing revoked")
}

// testGraceConcurrent: exchanges of one consumed token at once within the
// grace, with and without a Check, all succeed; each stores its own
// tokens, the token stays consumed with its first consumption's instant
// (past it the token is reuse, which revokes every branch).
func testGraceConcurrent(t *testing.T, e *env) {
	for _, check := range []bool{false, true} {
		t.Run(fmt.Sprintf("check=%v", check), func(t *testing.T) {
			f, a2, r2 := e.rotated(t)
			e.clk.Advance(reuseGrace / 2)
			const n = 8
			issued := make([][2]minted, n)
			xs := make([]storage.Exchange, n)
			for i := range xs {
				a, r := e.nextPair(t, f.g.ID)
				issued[i] = [2]minted{a, r}
				xs[i] = graceExchange(f.refresh, "client-a", a, r)
				if check {
					xs[i].Check = func(*storage.Grant) error { return nil }
				}
			}
			errs := gate.AtOnce(n, func(i int) error {
				g, err := e.b.Tokens.ExchangeToken(e.ctx, xs[i])
				if err == nil && g.ID != f.g.ID {
					return fmt.Errorf("grant %q returned", g.ID)
				}
				return err
			})
			for i, err := range errs {
				require.NoError(t, err, "exchange %d within the grace", i)
			}
			e.assertLive(t, a2)
			e.assertLive(t, r2)
			for i := range issued {
				e.assertLive(t, issued[i][0], "exchange %d's access token", i)
				e.assertLive(t, issued[i][1], "exchange %d's refresh token", i)
			}
			e.assertGone(t, f.refresh, "the token stays consumed")

			e.clk.Advance(reuseGrace / 2)
			a3, r3 := e.nextPair(t, f.g.ID)
			_, err := e.b.Tokens.ExchangeToken(e.ctx, graceExchange(f.refresh, "client-a", a3, r3))
			assert.ErrorIs(t, err, storage.ErrTokenReused, "the grace still ends where the first consumption's does")
			for i := range issued {
				e.assertGone(t, issued[i][1], "reuse revokes every branch (%d)", i)
			}
			e.assertGone(t, r2, "reuse revokes every branch")
		})
	}
}

// testGraceChainMovedOn: once a token of the grant has been consumed
// after the presented one, the client that held it got its answer, so
// presenting it again is reuse within the grace too, whichever branch
// moved on: the one its first exchange started, or one a re-exchange
// started.
func testGraceChainMovedOn(t *testing.T, e *env) {
	f, a2, r2 := e.rotated(t)
	e.clk.Advance(5 * time.Second)
	a3, r3 := e.nextPair(t, f.g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, graceExchange(r2, "client-a", a3, r3))
	require.NoError(t, err, "the first exchange's refresh token, used")
	e.clk.Advance(5 * time.Second)
	a4, r4 := e.nextPair(t, f.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, graceExchange(f.refresh, "client-a", a4, r4))
	assert.ErrorIs(t, err, storage.ErrTokenReused, "the chain moved on past the presented token")
	assertReuseNames(t, err, f.g, "the reuse")
	for _, m := range []minted{a2, a3, r3, a4, r4} {
		e.assertGone(t, m, "reuse revokes the grant (%v token)", m.tok.Kind)
	}

	g, _, _ := e.rotated(t)
	e.clk.Advance(5 * time.Second)
	b3, s3 := e.nextPair(t, g.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, graceExchange(g.refresh, "client-a", b3, s3))
	require.NoError(t, err, "within the grace, nothing consumed since")
	e.clk.Advance(5 * time.Second)
	b4, s4 := e.nextPair(t, g.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, graceExchange(s3, "client-a", b4, s4))
	require.NoError(t, err, "the re-exchange's refresh token, used")
	e.clk.Advance(5 * time.Second)
	b5, s5 := e.nextPair(t, g.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, graceExchange(g.refresh, "client-a", b5, s5))
	assert.ErrorIs(t, err, storage.ErrTokenReused, "a branch moved on past the presented token")
	e.assertGone(t, s4, "reuse revokes the grant")
}

// testGraceAnotherGrantMovedOn: only a token of the presented one's own
// grant consumed after it ends its grace: another grant's refresh, even
// of the same client and user, is no sign that this client had its
// answer, with and without a Check.
func testGraceAnotherGrantMovedOn(t *testing.T, e *env) {
	for _, withCheck := range []bool{false, true} {
		t.Run(fmt.Sprintf("withCheck=%v", withCheck), func(t *testing.T) {
			f, a2, r2 := e.rotated(t)
			e.clk.Advance(time.Second)
			other, _, _ := e.rotated(t) // a grant of the same client and user, consumed after f.refresh
			e.clk.Advance(time.Second)
			a3, r3 := e.nextPair(t, f.g.ID)
			x := graceExchange(f.refresh, "client-a", a3, r3)
			if withCheck {
				x.Check = func(*storage.Grant) error { return nil }
			}
			_, err := e.b.Tokens.ExchangeToken(e.ctx, x)
			require.NoError(t, err, "within the grace, nothing of its grant consumed since")
			for _, m := range []minted{a2, r2, a3, r3, other.access} {
				e.assertLive(t, m, "%v token", m.tok.Kind)
			}
		})
	}
}

// testGraceChainMovedOnSameInstant: "consumed after" is the order in
// which the exchanges ran, not what the store's clock read: the token the
// first exchange issued, consumed at the same instant by the clock (an
// instance whose clock is behind the one that made the first exchange
// reads an earlier one), moves the chain on past the presented token.
func testGraceChainMovedOnSameInstant(t *testing.T, e *env) {
	f, a2, r2 := e.rotated(t)
	a3, r3 := e.nextPair(t, f.g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, graceExchange(r2, "client-a", a3, r3))
	require.NoError(t, err, "the first exchange's refresh token, used at the same instant")
	a4, r4 := e.nextPair(t, f.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, graceExchange(f.refresh, "client-a", a4, r4))
	assert.ErrorIs(t, err, storage.ErrTokenReused, "the chain moved on past the presented token")
	for _, m := range []minted{a2, a3, r3} {
		e.assertGone(t, m, "reuse revokes the grant (%v token)", m.tok.Kind)
	}
}

// testGraceChainMovedOnTwiceAtTheSameInstant: each consumption of a
// grant's token is recorded past the latest one, not only past the
// first: of three consumptions at the same instant by the clock, the
// third is after the second, so the token the first exchange issued
// (consumed second), presented again, is reuse.
func testGraceChainMovedOnTwiceSameInstant(t *testing.T, e *env) {
	f, _, r2 := e.rotated(t)
	a3, r3 := e.nextPair(t, f.g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, graceExchange(r2, "client-a", a3, r3))
	require.NoError(t, err, "the first exchange's refresh token, used at the same instant")
	a4, r4 := e.nextPair(t, f.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, graceExchange(r3, "client-a", a4, r4))
	require.NoError(t, err, "the second exchange's refresh token, used at the same instant")
	a5, r5 := e.nextPair(t, f.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, graceExchange(r2, "client-a", a5, r5))
	assert.ErrorIs(t, err, storage.ErrTokenReused, "the chain moved on past the presented token")
	for _, m := range []minted{a3, a4, r4} {
		e.assertGone(t, m, "reuse revokes the grant (%v token)", m.tok.Kind)
	}
}
