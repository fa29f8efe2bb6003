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

// exchangeClauses check ExchangeToken: refresh rotation and code exchange.
var exchangeClauses = []clause{
	{"RefreshRotates", testRefreshRotates},
	{"CodeExchange", testCodeExchange},
	{"ReuseRevokesGrant", testReuse},
	{"WrongClientIsNotFound", testExchangeWrongClient},
	{"CheckErrorChangesNothing", testExchangeCheckError},
	{"CheckSeesGrant", testExchangeCheckSeesGrant},
	{"CheckGetsACopy", testExchangeCheckGetsCopy},
	{"ExpiredIsNotFound", testExchangeExpired},
	{"WrongKindIsNotFound", testExchangeWrongKind},
	{"UnknownIsNotFound", testExchangeUnknown},
	{"RevokedIsNotFound", testExchangeRevoked},
	{"ExtendsGrantExpiry", testExchangeExtendsGrant},
	{"ConcurrentOneWinner", testExchangeRace},
	{"ConcurrentOneWinnerWithCheck", testExchangeRaceWithCheck},
	{"RepeatedNewHashIsAlreadyExists", testExchangeRepeatedHash},
	{"KindNotSingleUseIsNotFound", testExchangeAccessKind},
	{"IssuesManyTokens", testExchangeIssuesMany},
	{"IssuingNothingConsumes", testExchangeIssuesNothing},
}

// testExchangeIssuesNothing: an exchange with an empty Issue still
// consumes the presented token, with or without a Check: presented again,
// it is reuse.
func testExchangeIssuesNothing(t *testing.T, e *env) {
	for _, check := range []bool{false, true} {
		f := e.storedGrant(t, "client-a", "user-1")
		x := refreshExchange(f.refresh, "client-a")
		if check {
			x.Check = func(*storage.Grant) error { return nil }
		}
		_, err := e.b.Tokens.ExchangeToken(e.ctx, x)
		require.NoError(t, err, "check %v", check)
		e.assertGone(t, f.refresh, "the presented token is consumed (check %v)", check)
		_, err = e.b.Tokens.ExchangeToken(e.ctx, x)
		assert.ErrorIs(t, err, storage.ErrTokenReused, "presented again (check %v)", check)
		e.assertGone(t, f.access, "the reuse revokes the grant (check %v)", check)
	}
}

// testExchangeIssuesMany: Exchange.Issue has no length limit; an exchange
// issuing more tokens than a rotation's two stores them all.
func testExchangeIssuesMany(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	kinds := []storage.TokenKind{storage.KindAccess, storage.KindRefresh, storage.KindSession}
	var next []minted
	for i := range 9 {
		next = append(next, mint(t, e.clk.Now(), kinds[i%len(kinds)], f.g.ID, accessTTL))
	}
	_, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", next...))
	require.NoError(t, err)
	for i, m := range next {
		e.requireLive(t, m, "issued token %d", i)
	}
	e.assertGone(t, f.refresh, "the presented token is consumed")
}

// nextPair mints the access and refresh token a rotation issues.
func (e *env) nextPair(t *testing.T, grantID string) (access, refresh minted) {
	t.Helper()
	now := e.clk.Now()
	return mint(t, now, storage.KindAccess, grantID, accessTTL), mint(t, now, storage.KindRefresh, grantID, refreshTTL)
}

func testRefreshRotates(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	e.clk.Advance(time.Minute)

	a2, r2 := e.nextPair(t, f.g.ID)
	a2.tok.Scopes = []string{"read"}
	g, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2))
	require.NoError(t, err)
	assertGrant(t, f.g, g)

	e.assertGone(t, f.refresh, "the presented refresh token is consumed")
	for _, m := range []minted{a2, r2} {
		ti := e.requireLive(t, m, "new %v token", m.tok.Kind)
		assertToken(t, m.tok, ti.Token) // GrantID set by the store
		assertGrant(t, f.g, &ti.Grant)
	}

	// The chain goes on.
	e.clk.Advance(time.Minute)
	a3, r3 := e.nextPair(t, f.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(r2, "client-a", a3, r3))
	require.NoError(t, err)
	e.assertGone(t, r2)
	e.assertLive(t, a3)
	e.assertLive(t, r3)
}

func testCodeExchange(t *testing.T, e *env) {
	g, code := e.storedCode(t)
	a1, r1 := e.nextPair(t, g.ID)
	var seen *storage.Grant
	x := codeExchange(code, "spa", a1, r1)
	x.Check = func(g *storage.Grant) error {
		c := *g
		seen = &c
		return nil
	}
	got, err := e.b.Tokens.ExchangeToken(e.ctx, x)
	require.NoError(t, err)
	assertGrant(t, g, got)
	assertGrant(t, g, seen) // Check sees the code binding
	notBefore(t, r1.tok.ExpiresAt, got.ExpiresAt, "grant outlives its new refresh token")

	e.assertGone(t, code, "a code is single use")
	e.assertLive(t, a1)
	e.assertLive(t, r1)

	// Presenting the code again revokes what it gave.
	x.Issue = nil
	x.Check = func(*storage.Grant) error { return nil }
	_, err = e.b.Tokens.ExchangeToken(e.ctx, x)
	assert.ErrorIs(t, err, storage.ErrTokenReused)
	assertReuseNames(t, err, g, "the code's reuse with a Check")
	e.assertGone(t, a1, "reused code revokes the grant")
	e.assertGone(t, r1, "reused code revokes the grant")
}

func testReuse(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	other := e.storedGrant(t, "client-a", "user-1")
	a2, r2 := e.nextPair(t, f.g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2))
	require.NoError(t, err)

	a3, r3 := e.nextPair(t, f.g.ID)
	g, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a3, r3))
	assert.ErrorIs(t, err, storage.ErrTokenReused)
	assert.Nil(t, g)
	assertReuseNames(t, err, f.g, "the reuse")

	for _, m := range []minted{f.access, a2, r2, a3, r3} {
		e.assertGone(t, m, "reuse revokes the whole grant (%v token)", m.tok.Kind)
	}
	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(r2, "client-a"))
	assert.ErrorIs(t, err, storage.ErrNotFound, "the unused refresh token of a revoked grant")

	// A consumed token stays reuse until it expires, revoked grant or not,
	// so that every loser of a race learns of the reuse.
	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a"))
	assert.ErrorIs(t, err, storage.ErrTokenReused, "presented a third time")
	assertReuseNames(t, err, f.g, "the reuse of a revoked grant's token")

	e.assertLive(t, other.access, "other grants of the same user and client stay")
	e.assertLive(t, other.refresh, "other grants of the same user and client stay")
}

// assertReuseNames asserts that err is a *storage.ReuseError naming g:
// its ID, its client and its user.
func assertReuseNames(t *testing.T, err error, g *storage.Grant, what string) {
	t.Helper()
	var re *storage.ReuseError
	if assert.ErrorAs(t, err, &re, "%s is a *storage.ReuseError", what) {
		assert.Equal(t, storage.ReuseError{GrantID: g.ID, ClientID: g.ClientID, UserID: g.UserID}, *re,
			"%s names the grant revoked", what)
	}
}

func testExchangeWrongClient(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	a2, r2 := e.nextPair(t, f.g.ID)
	called := false
	x := refreshExchange(f.refresh, "client-b", a2, r2)
	x.Check = func(*storage.Grant) error { called = true; return nil }
	g, err := e.b.Tokens.ExchangeToken(e.ctx, x)
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.Nil(t, g)
	assert.False(t, called, "Check does not run for another client's grant")
	e.assertGone(t, a2, "nothing issued")
	e.assertGone(t, r2, "nothing issued")
	e.assertLive(t, f.refresh, "nothing consumed")

	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2))
	require.NoError(t, err, "the right client can still exchange it")
	e.assertLive(t, a2)
}

func testExchangeCheckError(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	a2, r2 := e.nextPair(t, f.g.ID)
	x := refreshExchange(f.refresh, "client-a", a2, r2)
	x.Check = func(*storage.Grant) error { return fmt.Errorf("scope widened: %w", errCheck) }
	g, err := e.b.Tokens.ExchangeToken(e.ctx, x)
	assert.ErrorIs(t, err, errCheck, "Check's error is returned")
	assert.False(t, errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrTokenReused), "and is not turned into a sentinel: %v", err)
	assert.Nil(t, g)
	e.assertGone(t, a2, "nothing issued")
	e.assertGone(t, r2, "nothing issued")
	e.assertLive(t, f.refresh, "nothing consumed")
	e.assertLive(t, f.access, "nothing revoked")

	x.Check = nil
	_, err = e.b.Tokens.ExchangeToken(e.ctx, x)
	require.NoError(t, err, "still exchangeable after a refused Check")
	e.assertLive(t, a2)
}

func testExchangeCheckSeesGrant(t *testing.T, e *env) {
	f := e.newGrant(t, "client-a", "user-1")
	f.g.Binding = "ua-fingerprint"
	e.store(t, f.g, f.tokens()...)
	a2, r2 := e.nextPair(t, f.g.ID)
	calls := 0
	x := refreshExchange(f.refresh, "client-a", a2, r2)
	x.Check = func(g *storage.Grant) error {
		calls++
		assertGrant(t, f.g, g)
		return nil
	}
	_, err := e.b.Tokens.ExchangeToken(e.ctx, x)
	require.NoError(t, err)
	assert.Equal(t, 1, calls, "Check runs once")
}

// testExchangeCheckGetsCopy checks that what Check does to the grant it is
// shown neither changes the grant nor fails the exchange.
func testExchangeCheckGetsCopy(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	a2, r2 := e.nextPair(t, f.g.ID)
	x := refreshExchange(f.refresh, "client-a", a2, r2)
	x.Check = func(g *storage.Grant) error {
		g.Scopes[0] = "admin"
		g.UserID = "someone-else"
		return nil
	}
	_, err := e.b.Tokens.ExchangeToken(e.ctx, x)
	require.NoError(t, err)
	ti := e.requireLive(t, a2)
	assertGrant(t, f.g, &ti.Grant)
}

func testExchangeExpired(t *testing.T, e *env) {
	now := e.clk.Now()
	f := e.newGrant(t, "client-a", "user-1")
	f.refresh = mint(t, now, storage.KindRefresh, f.g.ID, time.Hour) // grant lives 24h
	e.store(t, f.g, f.tokens()...)
	e.clk.Advance(time.Hour + time.Millisecond)

	a2, r2 := e.nextPair(t, f.g.ID)
	g, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2))
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.Nil(t, g)
	e.assertGone(t, a2, "nothing issued")
}

func testExchangeWrongKind(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	a2, r2 := e.nextPair(t, f.g.ID)

	// An access token presented as a refresh token.
	g, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.access, "client-a", a2, r2))
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.Nil(t, g)
	// A refresh token presented as a code.
	x := refreshExchange(f.refresh, "client-a", a2, r2)
	x.Kind = storage.KindCode
	_, err = e.b.Tokens.ExchangeToken(e.ctx, x)
	assert.ErrorIs(t, err, storage.ErrNotFound)

	e.assertGone(t, a2, "nothing issued")
	e.assertLive(t, f.access, "nothing consumed")
	e.assertLive(t, f.refresh, "nothing consumed")
}

func testExchangeUnknown(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	now := e.clk.Now()
	for name, m := range map[string]minted{
		"unknown grant": mint(t, now, storage.KindRefresh, newGrantID(t), refreshTTL),
		"unknown hash":  mint(t, now, storage.KindRefresh, f.g.ID, refreshTTL),
	} {
		g, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(m, "client-a"))
		assert.ErrorIs(t, err, storage.ErrNotFound, name)
		assert.Nil(t, g, name)
	}
	e.assertLive(t, f.refresh, "an unknown token does not touch the grant")
	e.assertLive(t, f.access, "an unknown token does not touch the grant")
}

func testExchangeRevoked(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	require.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, f.g.ID))
	a2, r2 := e.nextPair(t, f.g.ID)
	g, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2))
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.Nil(t, g)
	e.assertGone(t, a2, "nothing issued into a revoked grant")
}

func testExchangeExtendsGrant(t *testing.T, e *env) {
	now := e.clk.Now()
	f := e.newGrant(t, "client-a", "user-1")
	f.g.ExpiresAt = now.Add(time.Hour)
	f.refresh = mint(t, now, storage.KindRefresh, f.g.ID, time.Hour)
	e.store(t, f.g, f.tokens()...)

	e.clk.Advance(30 * time.Minute)
	a2 := mint(t, e.clk.Now(), storage.KindAccess, f.g.ID, accessTTL)
	r2 := mint(t, e.clk.Now(), storage.KindRefresh, f.g.ID, 48*time.Hour)
	g, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2))
	require.NoError(t, err)
	notBefore(t, r2.tok.ExpiresAt, g.ExpiresAt, "returned Grant.ExpiresAt")

	e.clk.Advance(2 * time.Hour) // past the grant's first expiry
	ti := e.requireLive(t, r2, "the new refresh token outlives the grant's first expiry")
	notBefore(t, r2.tok.ExpiresAt, ti.Grant.ExpiresAt, "stored Grant.ExpiresAt")
	e.clk.Advance(47 * time.Hour)
	e.assertGone(t, r2)
}

func testExchangeRace(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	e.race(t, f.g.ID, "exactly one exchange wins", func(a, r minted) storage.Exchange {
		return refreshExchange(f.refresh, "client-a", a, r)
	})
	e.assertGone(t, f.access, "after reuse the grant is revoked")
}

// testExchangeRaceWithCheck races exchanges that carry a Check: a store
// may take another path for them (a transaction, two script calls with a
// guard in between), and that one must have exactly one winner too.
func testExchangeRaceWithCheck(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	e.race(t, f.g.ID, "exactly one exchange with a Check wins", func(a, r minted) storage.Exchange {
		x := refreshExchange(f.refresh, "client-a", a, r)
		x.Check = func(*storage.Grant) error { return nil }
		return x
	})
	e.assertGone(t, f.access, "after reuse the grant is revoked")
}

// race runs 16 exchanges, made by mk for a new access and refresh token of
// grant grantID, at once: exactly one must win, every other one is reuse,
// and the reuse revokes the grant, the winner's tokens included.
func (e *env) race(t *testing.T, grantID, winMsg string, mk func(access, refresh minted) storage.Exchange) {
	t.Helper()
	const n = 16
	issued := make([][2]minted, n)
	xs := make([]storage.Exchange, n)
	for i := range issued {
		a, r := e.nextPair(t, grantID)
		issued[i] = [2]minted{a, r}
		xs[i] = mk(a, r)
	}
	errs := gate.AtOnce(n, func(i int) error {
		_, err := e.b.Tokens.ExchangeToken(e.ctx, xs[i])
		return err
	})
	soleWinner(t, errs, storage.ErrTokenReused, winMsg)
	for i := range issued {
		e.assertGone(t, issued[i][0], "after reuse the grant is revoked (exchange %d)", i)
		e.assertGone(t, issued[i][1], "after reuse the grant is revoked (exchange %d)", i)
	}
}

// Two new tokens with one hash fail the exchange as a taken hash does,
// with or without a Check: nothing consumed, nothing stored.
func testExchangeRepeatedHash(t *testing.T, e *env) {
	for _, check := range []bool{false, true} {
		f := e.storedGrant(t, "client-a", "user-1")
		a2, _ := e.nextPair(t, f.g.ID)
		twin := a2
		twin.tok.Kind = storage.KindRefresh
		x := refreshExchange(f.refresh, "client-a", a2, twin)
		if check {
			x.Check = func(*storage.Grant) error { return nil }
		}
		_, err := e.b.Tokens.ExchangeToken(e.ctx, x)
		assert.ErrorIs(t, err, storage.ErrAlreadyExists, "check %v", check)
		e.assertLive(t, f.refresh, "nothing consumed")
		e.assertGone(t, a2, "nothing stored")

		// A new token under the hash of one stored already (the grant's
		// access token) is refused too, and leaves that token as it was.
		g := e.storedGrant(t, "client-a", "user-1")
		a3, r3 := e.nextPair(t, g.g.ID)
		taken := r3
		taken.tok.Hash, taken.ref = g.access.tok.Hash, g.access.ref
		x = refreshExchange(g.refresh, "client-a", a3, taken)
		if check {
			x.Check = func(*storage.Grant) error { return nil }
		}
		_, err = e.b.Tokens.ExchangeToken(e.ctx, x)
		assert.ErrorIs(t, err, storage.ErrAlreadyExists, "taken hash, check %v", check)
		e.assertLive(t, g.refresh, "nothing consumed")
		e.assertGone(t, a3, "nothing stored")
		if ti, err := e.lookup(t, g.access); assert.NoError(t, err, "the stored token stays") {
			assertToken(t, g.access.tok, ti.Token)
		}
	}
}

// Only refresh tokens and codes are exchanged: presenting an access token
// as such is not found, and changes nothing.
func testExchangeAccessKind(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	a2, r2 := e.nextPair(t, f.g.ID)
	x := refreshExchange(f.access, "client-a", a2, r2)
	x.Kind = storage.KindAccess
	_, err := e.b.Tokens.ExchangeToken(e.ctx, x)
	assert.ErrorIs(t, err, storage.ErrNotFound)
	e.assertLive(t, f.access, "not consumed")
	e.assertGone(t, a2, "nothing stored")
	_, err = e.b.Tokens.ExchangeToken(e.ctx, x)
	assert.ErrorIs(t, err, storage.ErrNotFound, "and again: no reuse")
	e.assertLive(t, f.refresh)
}
