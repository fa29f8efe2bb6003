package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// promiseClauses check promises of storage.TokenStore that the other
// groups leave out.
var promiseClauses = []clause{
	{"CheckRunsOnlyForALiveToken", testCheckOnlyForLiveToken},
	{"ConsumedStaysReuseUntilItsOwnExpiry", testConsumedReuseUntilExpiry},
	{"RevokedByUserOrClientConsumedIsStillReuse", testConsumedReuseAfterRevokeUserClient},
	{"ConsumedUnderAnotherClientOrKindIsNotFound", testConsumedOtherClientOrKind},
	{"ExtendHashUnderAnotherGrantIsNotFound", testExtendHashUnderAnotherGrant},
	{"EmptyUserRevokesNothing", testRevokeEmptyUser},
	{"EmptyClientRevokesNothing", testRevokeEmptyClient},
	{"WrittenValuesAreCopied", testWrittenValuesAreCopied},
	{"ReturnedValuesAreCopies", testReturnedValuesAreCopies},
}

// testCheckOnlyForLiveToken checks that Exchange.Check runs "after the
// token was found live": a reused token is reuse (the grant revoked)
// whatever Check would have said, and an unknown, expired or revoked one
// is not found without Check being asked.
func testCheckOnlyForLiveToken(t *testing.T, e *env) {
	refusing := func(calls *int) func(*storage.Grant) error {
		return func(*storage.Grant) error { *calls++; return errCheck }
	}

	t.Run("reuse", func(t *testing.T) {
		f := e.storedGrant(t, "client-a", "user-1")
		a2, r2 := e.nextPair(t, f.g.ID)
		_, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2))
		require.NoError(t, err)
		calls := 0
		x := refreshExchange(f.refresh, "client-a")
		x.Check = refusing(&calls)
		_, err = e.b.Tokens.ExchangeToken(e.ctx, x)
		assert.ErrorIs(t, err, storage.ErrTokenReused, "a refusing Check does not hide reuse")
		assertReuseNames(t, err, f.g, "the reuse found with a Check")
		assert.NotErrorIs(t, err, errCheck)
		assert.Zero(t, calls, "Check does not run for a consumed token")
		e.assertGone(t, a2, "reuse revokes the grant, Check or not")
		e.assertGone(t, r2, "reuse revokes the grant, Check or not")
	})

	t.Run("not live", func(t *testing.T) {
		f := e.newGrant(t, "client-a", "user-1")
		short := mint(t, e.clk.Now(), storage.KindRefresh, f.g.ID, time.Minute)
		e.store(t, f.g, f.access, f.refresh, short)
		revoked := e.storedGrant(t, "client-a", "user-1")
		require.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, revoked.g.ID))
		e.clk.Advance(time.Minute)
		for name, m := range map[string]minted{
			"expired":       short,
			"unknown":       mint(t, e.clk.Now(), storage.KindRefresh, f.g.ID, refreshTTL),
			"unknown grant": mint(t, e.clk.Now(), storage.KindRefresh, newGrantID(t), refreshTTL),
			"revoked":       revoked.refresh,
		} {
			calls := 0
			x := refreshExchange(m, "client-a")
			x.Check = refusing(&calls)
			_, err := e.b.Tokens.ExchangeToken(e.ctx, x)
			assert.ErrorIs(t, err, storage.ErrNotFound, name)
			assert.Zero(t, calls, "Check does not run for a token that is not live (%s)", name)
		}
		e.assertLive(t, f.refresh, "nothing else of the grant changed")
	})
}

// testConsumedReuseUntilExpiry checks both sides of "a consumed token
// stays reuse until its own expiry": up to its expiry presenting it
// revokes the grant; after it, it is an expired token, not found, and
// the grant lives on.
func testConsumedReuseUntilExpiry(t *testing.T, e *env) {
	for _, last := range []bool{false, true} {
		now := e.clk.Now()
		f := e.newGrant(t, "client-a", "user-1")
		f.refresh = mint(t, now, storage.KindRefresh, f.g.ID, time.Hour) // the grant lives 24h
		e.store(t, f.g, f.tokens()...)
		a2, r2 := mint(t, now, storage.KindAccess, f.g.ID, accessTTL), mint(t, now, storage.KindRefresh, f.g.ID, refreshTTL)
		_, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2))
		require.NoError(t, err)

		if !last {
			e.clk.Advance(time.Hour - time.Millisecond)
			_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a"))
			assert.ErrorIs(t, err, storage.ErrTokenReused, "just before the consumed token's expiry")
			e.assertGone(t, r2, "reuse revokes the grant")
			e.clk.Advance(time.Millisecond)
			continue
		}
		e.clk.Advance(time.Hour)
		_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a"))
		assert.ErrorIs(t, err, storage.ErrNotFound, "at the consumed token's expiry it is no reuse")
		assert.NotErrorIs(t, err, storage.ErrTokenReused)
		e.assertLive(t, r2, "an expired consumed token revokes nothing")
		a3, r3 := e.nextPair(t, f.g.ID)
		_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(r2, "client-a", a3, r3))
		assert.NoError(t, err, "the grant still rotates")
	}
}

// testConsumedReuseAfterRevokeUserClient checks that a consumed token of
// a grant that RevokeUser or RevokeClient ended is still reuse (as after
// RevokeGrant), and that such a grant, already revoked, is not counted
// again.
func testConsumedReuseAfterRevokeUserClient(t *testing.T, e *env) {
	for _, revoke := range e.userClientRevokers() {
		t.Run(revoke.name, func(t *testing.T) {
			f := e.storedGrant(t, "client-a", "user-1")
			a2, r2 := e.nextPair(t, f.g.ID)
			_, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2))
			require.NoError(t, err)
			n, err := revoke.call()
			require.NoError(t, err)
			assert.Equal(t, 1, n, "the rotated grant was live")
			e.assertGone(t, a2)
			e.assertGone(t, r2)
			n, err = revoke.call()
			require.NoError(t, err)
			assert.Zero(t, n, "a revoked grant that remembers a consumed token is not counted again")

			_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a"))
			assert.ErrorIs(t, err, storage.ErrTokenReused, "the consumed token is still reuse")
			_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(r2, "client-a"))
			assert.ErrorIs(t, err, storage.ErrNotFound, "the unused refresh token of the revoked grant")
		})
	}
}

// testRevokeEmptyUser: "The empty user ID (client_credentials grants)
// ends nothing."
func testRevokeEmptyUser(t *testing.T, e *env) {
	e.assertEmptyIDRevokesNothing(t, e.storedGrant(t, "client-a", ""), "RevokeUser", e.b.Tokens.RevokeUser)
}

// testRevokeEmptyClient: "The empty client ID ends nothing": no client
// has it, and the grants without a client are the browser sessions
// (provider.SessionClientID), which a RevokeClient with an ID left empty
// by mistake must not end for every user.
func testRevokeEmptyClient(t *testing.T, e *env) {
	e.assertEmptyIDRevokesNothing(t, e.storedGrant(t, "", "user-1"), "RevokeClient", e.b.Tokens.RevokeClient)
}

// assertEmptyIDRevokesNothing checks that revoke (RevokeUser or
// RevokeClient, named name) of the empty ID ends nothing, f's tokens
// included.
func (e *env) assertEmptyIDRevokesNothing(t *testing.T, f fixture, name string, revoke func(context.Context, string) (int, error)) {
	t.Helper()
	n, err := revoke(e.ctx, "")
	require.NoError(t, err)
	assert.Zero(t, n)
	for _, m := range f.tokens() {
		e.assertLive(t, m, "a grant without that ID survives "+name+`("")`)
	}
}

// testWrittenValuesAreCopied checks that a store keeps no reference to
// what the caller wrote: changing the tokens, the code binding and the
// issued tokens after the call changes nothing stored.
func testWrittenValuesAreCopied(t *testing.T, e *env) {
	g, code := e.storedCode(t)
	want := *g
	wantCode := *g.Code
	want.Code = &wantCode
	g.Code.RedirectURI = "https://evil.example/cb"
	g.Code.Challenge = "mutated"

	f := e.newGrant(t, "client-a", "user-1")
	f.access.tok.Scopes = []string{"read"}
	toks := records(f.tokens())
	require.NoError(t, e.b.Tokens.CreateGrant(e.ctx, f.g, toks...))
	toks[0].Scopes[0] = "admin"

	ti := e.requireLive(t, code)
	assertGrant(t, &want, &ti.Grant)
	ti = e.requireLive(t, f.access)
	assert.Equal(t, []string{"read"}, ti.Token.Scopes, "the token's scopes as written")
	assert.Nil(t, e.requireLive(t, f.refresh).Token.Scopes, "the refresh token carries the grant's scopes")

	a2, r2 := e.nextPair(t, f.g.ID)
	a2.tok.Scopes = []string{"write"}
	x := refreshExchange(f.refresh, "client-a", a2, r2)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, x)
	require.NoError(t, err)
	x.Issue[0].Scopes[0] = "admin"
	assert.Equal(t, []string{"write"}, e.requireLive(t, a2).Token.Scopes, "an issued token's scopes as written")
	assert.Nil(t, e.requireLive(t, r2).Token.Scopes, "an issued token with the grant's scopes")
}

// testReturnedValuesAreCopies checks that changing what LookupToken and
// ExchangeToken return (the code binding, the grant's scopes) changes
// nothing stored.
func testReturnedValuesAreCopies(t *testing.T, e *env) {
	g, code := e.storedCode(t)
	ti := e.requireLive(t, code)
	require.NotNil(t, ti.Grant.Code)
	ti.Grant.Code.RedirectURI = "https://evil.example/cb"
	ti.Grant.Code.Challenge = "mutated"
	assertGrant(t, g, &e.requireLive(t, code).Grant)

	a1, r1 := e.nextPair(t, g.ID)
	got, err := e.b.Tokens.ExchangeToken(e.ctx, codeExchange(code, "spa", a1, r1))
	require.NoError(t, err)
	require.NotNil(t, got.Code)
	got.Code.RedirectURI = "https://evil.example/cb"
	got.Scopes[0] = "admin"
	assertGrant(t, g, &e.requireLive(t, a1).Grant)

	a2, r2 := e.nextPair(t, g.ID)
	got, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(r1, "spa", a2, r2))
	require.NoError(t, err)
	assertGrant(t, g, got)
}

// testConsumedOtherClientOrKind: a consumed token presented by another
// client than the grant's, or as another kind than its own, is not found
// and changes nothing ("a grant of another client is ErrNotFound and
// changes nothing"; a token is found only under its own kind): it is no
// reuse, so the grant is not revoked.
func testConsumedOtherClientOrKind(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	a2, r2 := e.nextPair(t, f.g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2))
	require.NoError(t, err)

	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-b"))
	assert.ErrorIs(t, err, storage.ErrNotFound, "presented by another client")
	asCode := refreshExchange(f.refresh, "client-a")
	asCode.Kind = storage.KindCode
	_, err = e.b.Tokens.ExchangeToken(e.ctx, asCode)
	assert.ErrorIs(t, err, storage.ErrNotFound, "presented as a code")
	e.assertLive(t, a2, "nothing revoked")
	e.assertLive(t, r2, "nothing revoked")

	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a"))
	assert.ErrorIs(t, err, storage.ErrTokenReused, "by its own client, as its own kind, it is reuse")
}

// testExtendHashUnderAnotherGrant: a hash presented with the ID of
// another grant finds nothing to extend, as it finds nothing to look up.
func testExtendHashUnderAnotherGrant(t *testing.T, e *env) {
	a := e.storedGrant(t, "client-a", "user-1")
	b := e.storedGrant(t, "client-a", "user-1")
	moved := a.access.ref
	moved.GrantID = b.g.ID
	later := e.clk.Now().Add(10 * refreshTTL)
	assert.ErrorIs(t, e.b.Tokens.ExtendToken(e.ctx, moved, later), storage.ErrNotFound)
	ti := e.requireLive(t, a.access)
	sameTime(t, a.access.tok.ExpiresAt, ti.Token.ExpiresAt, "Token.ExpiresAt unchanged")
	ti = e.requireLive(t, b.access)
	sameTime(t, b.g.ExpiresAt, ti.Grant.ExpiresAt, "the other grant's expiry unchanged")
}
