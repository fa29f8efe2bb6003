package storagetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// bindClauses check Exchange.Bind: an exchange binds a grant that is not
// bound yet, atomically with itself, and nothing else does.
var bindClauses = []clause{
	{"CodeExchangeBindsGrant", testBindCodeExchange},
	{"WithoutCheckBindsGrant", testBindWithoutCheck},
	{"BoundGrantKeepsBinding", testBindKeepsBinding},
	{"EmptyBindLeavesUnbound", testBindEmpty},
	{"CheckErrorBindsNothing", testBindCheckError},
	{"NotFoundBindsNothing", testBindNotFound},
	{"ReuseBindsNothing", testBindReuse},
	{"ConcurrentFirstBindWins", testBindRace},
	{"BindKeepsLaterGrantExpiry", testBindKeepsExpiry},
}

// testBindKeepsExpiry checks that binding a grant whose expiry is later
// than the new tokens' leaves that expiry, with and without a Check: the
// grant's other tokens still need it.
func testBindKeepsExpiry(t *testing.T, e *env) {
	for _, withCheck := range []bool{false, true} {
		f := e.newGrant(t, "client-a", "user-1")
		long := mint(t, e.clk.Now(), storage.KindRefresh, f.g.ID, refreshTTL)
		e.store(t, f.g, f.refresh, long)
		a2 := mint(t, e.clk.Now(), storage.KindAccess, f.g.ID, accessTTL)
		x := refreshExchange(f.refresh, "client-a", a2)
		x.Bind = bindClient
		if withCheck {
			x.Check = func(*storage.Grant) error { return nil }
		}
		got, err := e.b.Tokens.ExchangeToken(e.ctx, x)
		require.NoError(t, err, "withCheck=%v", withCheck)
		sameTime(t, f.g.ExpiresAt, got.ExpiresAt, "returned grant's expiry")
		for _, m := range []minted{a2, long} {
			ti := e.requireLive(t, m, "%v token, withCheck=%v", m.tok.Kind, withCheck)
			sameTime(t, f.g.ExpiresAt, ti.Grant.ExpiresAt, "stored grant's expiry")
			assert.Equal(t, bindClient, ti.Grant.Binding, "withCheck=%v", withCheck)
		}
	}
}

// Fingerprints the clauses bind grants to.
const (
	bindClient = "b1.fingerprint-of-the-client"
	bindOther  = "b1.fingerprint-of-another-client"
)

// testBindCodeExchange checks the provider's use: a code grant, stored
// unbound, is bound by the exchange of its code (which carries a Check),
// and stays bound through the lookups of its tokens and their refresh.
func testBindCodeExchange(t *testing.T, e *env) {
	g, code := e.storedCode(t)
	a1, r1 := e.nextPair(t, g.ID)
	x := codeExchange(code, "spa", a1, r1)
	x.Bind = bindClient
	var before string
	x.Check = func(g *storage.Grant) error {
		before = g.Binding
		return nil
	}
	got, err := e.b.Tokens.ExchangeToken(e.ctx, x)
	require.NoError(t, err)
	assert.Empty(t, before, "Check is shown the grant before it is bound")
	want := *g
	want.Binding = bindClient
	assertGrant(t, &want, got)
	for _, m := range []minted{a1, r1} {
		ti := e.requireLive(t, m, "new %v token", m.tok.Kind)
		assertGrant(t, &want, &ti.Grant)
	}

	// A refresh, which binds nothing, sees the binding and keeps it.
	e.clk.Advance(time.Minute)
	a2, r2 := e.nextPair(t, g.ID)
	rx := refreshExchange(r1, "spa", a2, r2)
	var seen string
	rx.Check = func(g *storage.Grant) error {
		seen = g.Binding
		return nil
	}
	got, err = e.b.Tokens.ExchangeToken(e.ctx, rx)
	require.NoError(t, err)
	assert.Equal(t, bindClient, seen, "a refresh's Check sees the binding")
	assert.Equal(t, bindClient, got.Binding, "a refresh returns the binding")
	ti := e.requireLive(t, a2, "the refreshed access token")
	assertGrant(t, &want, &ti.Grant)
}

// testBindWithoutCheck checks Bind on an exchange without a Check, which
// a store may run on another path (one statement, one script call).
func testBindWithoutCheck(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	a2, r2 := e.nextPair(t, f.g.ID)
	x := refreshExchange(f.refresh, "client-a", a2, r2)
	x.Bind = bindClient
	got, err := e.b.Tokens.ExchangeToken(e.ctx, x)
	require.NoError(t, err)
	want := *f.g
	want.Binding = bindClient
	assertGrant(t, &want, got)
	for _, m := range []minted{f.access, a2, r2} {
		ti := e.requireLive(t, m, "%v token", m.tok.Kind)
		assertGrant(t, &want, &ti.Grant)
	}
}

// testBindKeepsBinding checks that Bind does not move a grant that is
// bound already, with and without a Check.
func testBindKeepsBinding(t *testing.T, e *env) {
	for _, withCheck := range []bool{false, true} {
		t.Run(fmt.Sprintf("withCheck=%v", withCheck), func(t *testing.T) {
			f := e.newGrant(t, "client-a", "user-1")
			f.g.Binding = bindClient
			e.store(t, f.g, f.tokens()...)
			a2, r2 := e.nextPair(t, f.g.ID)
			x := refreshExchange(f.refresh, "client-a", a2, r2)
			x.Bind = bindOther
			if withCheck {
				x.Check = func(*storage.Grant) error { return nil }
			}
			got, err := e.b.Tokens.ExchangeToken(e.ctx, x)
			require.NoError(t, err)
			assertGrant(t, f.g, got)
			ti := e.requireLive(t, a2)
			assertGrant(t, f.g, &ti.Grant)
		})
	}
}

// testBindEmpty checks that an exchange without Bind leaves a code grant
// unbound.
func testBindEmpty(t *testing.T, e *env) {
	g, code := e.storedCode(t)
	a1, r1 := e.nextPair(t, g.ID)
	got, err := e.b.Tokens.ExchangeToken(e.ctx, codeExchange(code, "spa", a1, r1))
	require.NoError(t, err)
	assertGrant(t, g, got)
	ti := e.requireLive(t, a1)
	assertGrant(t, g, &ti.Grant)
}

// testBindCheckError checks that an exchange its Check refuses binds
// nothing, and that the next one may still bind.
func testBindCheckError(t *testing.T, e *env) {
	g, code := e.storedCode(t)
	a1, r1 := e.nextPair(t, g.ID)
	x := codeExchange(code, "spa", a1, r1)
	x.Bind = bindOther
	x.Check = func(*storage.Grant) error { return errCheck }
	_, err := e.b.Tokens.ExchangeToken(e.ctx, x)
	require.ErrorIs(t, err, errCheck)
	ti := e.requireLive(t, code, "nothing consumed")
	assertGrant(t, g, &ti.Grant) // Binding still empty

	x.Bind = bindClient
	x.Check = func(g *storage.Grant) error {
		assert.Empty(t, g.Binding, "the refused exchange bound nothing")
		return nil
	}
	got, err := e.b.Tokens.ExchangeToken(e.ctx, x)
	require.NoError(t, err)
	assert.Equal(t, bindClient, got.Binding, "the next exchange binds")
}

// testBindNotFound checks that exchanges that find nothing to exchange
// (another client, an expired token, another kind, an unknown hash in
// the grant) bind nothing.
func testBindNotFound(t *testing.T, e *env) {
	now := e.clk.Now()
	f := e.newGrant(t, "client-a", "user-1")
	short := mint(t, now, storage.KindRefresh, f.g.ID, time.Minute) // the grant lives on
	e.store(t, f.g, f.access, f.refresh, short)
	e.clk.Advance(time.Minute)

	for name, x := range map[string]storage.Exchange{
		"another client": refreshExchange(f.refresh, "client-b"),
		"expired token":  refreshExchange(short, "client-a"),
		"another kind":   refreshExchange(f.access, "client-a"),
		"unknown hash":   refreshExchange(mint(t, now, storage.KindRefresh, f.g.ID, refreshTTL), "client-a"),
	} {
		for _, withCheck := range []bool{false, true} {
			x.Bind = bindOther
			x.Check = nil
			if withCheck {
				x.Check = func(*storage.Grant) error { return nil }
			}
			got, err := e.b.Tokens.ExchangeToken(e.ctx, x)
			assert.ErrorIs(t, err, storage.ErrNotFound, "%s (Check: %v)", name, withCheck)
			assert.Nil(t, got, name)
			ti := e.requireLive(t, f.refresh, "%s: nothing consumed", name)
			assertGrant(t, f.g, &ti.Grant) // Binding still empty
		}
	}
}

// testBindReuse checks that a reused code binds nothing: the grant is
// revoked, and no grant is returned that would show a binding.
func testBindReuse(t *testing.T, e *env) {
	g, code := e.storedCode(t)
	a1, r1 := e.nextPair(t, g.ID)
	got, err := e.b.Tokens.ExchangeToken(e.ctx, codeExchange(code, "spa", a1, r1))
	require.NoError(t, err)
	assertGrant(t, g, got)

	x := codeExchange(code, "spa")
	x.Bind = bindOther
	got, err = e.b.Tokens.ExchangeToken(e.ctx, x)
	assert.ErrorIs(t, err, storage.ErrTokenReused)
	assert.Nil(t, got)
	e.assertGone(t, a1, "reuse revokes the grant")
	e.assertGone(t, r1, "reuse revokes the grant")
}

// testBindRace exchanges two refresh tokens of one unbound grant at once,
// each binding it to another fingerprint: both succeed, exactly one
// binding is set, and both exchanges return it.
func testBindRace(t *testing.T, e *env) {
	const rounds = 8
	for range rounds {
		f := e.newGrant(t, "client-a", "user-1")
		r0 := mint(t, e.clk.Now(), storage.KindRefresh, f.g.ID, refreshTTL)
		e.store(t, f.g, f.access, f.refresh, r0)
		binds := [2]string{bindClient, bindOther}
		xs := [2]storage.Exchange{}
		for i, presented := range []minted{f.refresh, r0} {
			a, r := e.nextPair(t, f.g.ID)
			xs[i] = refreshExchange(presented, "client-a", a, r)
			xs[i].Bind = binds[i]
		}
		var got [2]*storage.Grant
		var errs [2]error
		var start, done sync.WaitGroup
		start.Add(1)
		for i := range xs {
			done.Go(func() {
				start.Wait()
				got[i], errs[i] = e.b.Tokens.ExchangeToken(e.ctx, xs[i])
			})
		}
		start.Done()
		done.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		ti := e.requireLive(t, f.access)
		assert.Contains(t, binds, ti.Grant.Binding, "one of the bindings is set")
		assert.Equal(t, ti.Grant.Binding, got[0].Binding, "the first exchange returns the binding set")
		assert.Equal(t, ti.Grant.Binding, got[1].Binding, "the second exchange returns the binding set")
	}
}
