package storagetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// unstorableIDs are IDs no record can have in a store that keeps text
// (a NUL byte, invalid UTF-8), which a request may carry all the same.
var unstorableIDs = []string{"a\x00b", "\xff", "a\xc3"}

// extendClauses check ExtendToken.
var extendClauses = []clause{
	{"MovesExpiry", testExtendMovesExpiry},
	{"NotLiveIsNotFound", testExtendNotLive},
	{"KeepsLaterGrantExpiry", testExtendKeepsGrantExpiry},
}

// testExtendKeepsGrantExpiry checks that extending a token to before its
// grant's expiry leaves the grant's expiry, which its other tokens need.
func testExtendKeepsGrantExpiry(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	newExpiry := e.clk.Now().Add(2 * accessTTL)
	require.NoError(t, e.b.Tokens.ExtendToken(e.ctx, f.access.ref, newExpiry))
	ti := e.requireLive(t, f.access)
	sameTime(t, newExpiry, ti.Token.ExpiresAt, "Token.ExpiresAt")
	sameTime(t, f.g.ExpiresAt, ti.Grant.ExpiresAt, "Grant.ExpiresAt stays")

	e.clk.Advance(2*accessTTL + time.Millisecond) // past the extended token's expiry
	e.assertGone(t, f.access, "gone after its new expiry")
	ti = e.requireLive(t, f.refresh, "the grant's other token outlives the extended one")
	sameTime(t, f.g.ExpiresAt, ti.Grant.ExpiresAt, "Grant.ExpiresAt")
}

// revokeClauses check RevokeGrant, RevokeUser and RevokeClient.
var revokeClauses = []clause{
	{"GrantEndsAllTokens", testRevokeGrant},
	{"GrantIsIdempotent", testRevokeGrantIdempotent},
	{"UserEndsOnlyTheUsersGrants", testRevokeUser},
	{"ClientEndsOnlyTheClientsGrants", testRevokeClient},
	{"UserAndClientEndGrantsPastTheirExpiryUncounted", testRevokeEndsExpiredGrants},
	{"EndingAnEndedGrantAgainSparesTheOthers", testRevokeEndedGrantAgain},
}

// testRevokeEndedGrantAgain checks that a grant ended once and ended
// again, by RevokeGrant or by the reuse of its consumed token (the
// grant is remembered for that), leaves its user's and its client's other
// grants to RevokeUser and RevokeClient, counted.
func testRevokeEndedGrantAgain(t *testing.T, e *env) {
	for _, revoke := range e.userClientRevokers() {
		t.Run(revoke.name, func(t *testing.T) {
			ended := e.storedGrant(t, "client-a", "user-1")
			a2, r2 := e.nextPair(t, ended.g.ID)
			_, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(ended.refresh, "client-a", a2, r2))
			require.NoError(t, err)
			others := make([]fixture, 8)
			for i := range others {
				others[i] = e.storedGrant(t, "client-a", "user-1")
			}
			require.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, ended.g.ID))
			require.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, ended.g.ID), "again")
			a3, r3 := e.nextPair(t, ended.g.ID)
			_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(ended.refresh, "client-a", a3, r3))
			require.ErrorIs(t, err, storage.ErrTokenReused, "the ended grant's consumed token")

			n, err := revoke.call()
			require.NoError(t, err)
			assert.Equal(t, len(others), n, "the other grants, live")
			for _, f := range others {
				for _, m := range f.tokens() {
					e.assertGone(t, m, "%v token of another grant", m.tok.Kind)
				}
			}
		})
	}
}

func testExtendMovesExpiry(t *testing.T, e *env) {
	now := e.clk.Now()
	id := newGrantID(t)
	g := &storage.Grant{ID: id, ClientID: "web", UserID: "user-1", Scopes: []string{"read"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	session := mint(t, now, storage.KindSession, id, time.Hour)
	e.store(t, g, session)

	e.clk.Advance(50 * time.Minute)
	newExpiry := e.clk.Now().Add(time.Hour)
	require.NoError(t, e.b.Tokens.ExtendToken(e.ctx, session.ref, newExpiry))

	e.clk.Advance(30 * time.Minute) // past the first expiry of token and grant
	ti := e.requireLive(t, session, "live after its old expiry")
	sameTime(t, newExpiry, ti.Token.ExpiresAt, "Token.ExpiresAt")
	notBefore(t, newExpiry, ti.Grant.ExpiresAt, "Grant.ExpiresAt follows the token")
	assert.Equal(t, storage.KindSession, ti.Token.Kind)

	e.clk.Advance(30*time.Minute + time.Millisecond) // past the new expiry
	e.assertGone(t, session, "gone after the new expiry")
}

func testExtendNotLive(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	now := e.clk.Now()
	later := now.Add(48 * time.Hour)

	unknown := mint(t, now, storage.KindSession, newGrantID(t), time.Hour)
	assert.ErrorIs(t, e.b.Tokens.ExtendToken(e.ctx, unknown.ref, later), storage.ErrNotFound, "unknown grant")
	unstored := mint(t, now, storage.KindSession, f.g.ID, time.Hour)
	assert.ErrorIs(t, e.b.Tokens.ExtendToken(e.ctx, unstored.ref, later), storage.ErrNotFound, "unknown hash")

	a2, r2 := e.nextPair(t, f.g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2))
	require.NoError(t, err)
	assert.ErrorIs(t, e.b.Tokens.ExtendToken(e.ctx, f.refresh.ref, later), storage.ErrNotFound, "consumed")
	e.assertGone(t, f.refresh, "a consumed token is not revived")
	f.refresh = r2

	e.clk.Advance(accessTTL + time.Millisecond)
	assert.ErrorIs(t, e.b.Tokens.ExtendToken(e.ctx, f.access.ref, later), storage.ErrNotFound, "expired")
	e.assertGone(t, f.access, "an expired token is not revived")

	require.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, f.g.ID))
	assert.ErrorIs(t, e.b.Tokens.ExtendToken(e.ctx, f.refresh.ref, later), storage.ErrNotFound, "revoked")
	e.assertGone(t, f.refresh, "a revoked token is not revived")
}

func testRevokeGrant(t *testing.T, e *env) {
	f := e.newGrant(t, "client-a", "user-1")
	session := mint(t, e.clk.Now(), storage.KindSession, f.g.ID, time.Hour)
	e.store(t, f.g, f.access, f.refresh, session)
	other := e.storedGrant(t, "client-a", "user-1")

	require.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, f.g.ID))
	for _, m := range []minted{f.access, f.refresh, session} {
		e.assertGone(t, m, "%v token of the revoked grant", m.tok.Kind)
	}
	for _, m := range other.tokens() {
		e.assertLive(t, m, "%v token of another grant", m.tok.Kind)
	}
}

func testRevokeGrantIdempotent(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	require.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, f.g.ID))
	assert.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, f.g.ID), "second revocation")
	assert.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, newGrantID(t)), "unknown grant")
	// An ID no grant can have (a request may carry any bytes) names no
	// grant either: no error, which would read as an outage.
	for _, id := range unstorableIDs {
		assert.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, id), "grant ID %q", id)
	}
	e.assertGone(t, f.access)

	// Revoking a grant whose tokens were rotated also ends the new ones.
	g := e.storedGrant(t, "client-a", "user-1")
	a2, r2 := e.nextPair(t, g.g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(g.refresh, "client-a", a2, r2))
	require.NoError(t, err)
	require.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, g.g.ID))
	e.assertGone(t, a2)
	e.assertGone(t, r2)
}

func testRevokeUser(t *testing.T, e *env) {
	u1a := e.storedGrant(t, "client-a", "user-1")
	u1b := e.storedGrant(t, "client-b", "user-1")
	u1c := e.storedGrant(t, "client-b", "user-1")
	u2 := e.storedGrant(t, "client-a", "user-2")
	cc := e.storedGrant(t, "client-a", "")
	require.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, u1c.g.ID)) // already ended: not counted

	n, err := e.b.Tokens.RevokeUser(e.ctx, "user-1")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "grants of user-1 that were live")
	for _, f := range []fixture{u1a, u1b} {
		for _, m := range f.tokens() {
			e.assertGone(t, m, "user-1's %v token", m.tok.Kind)
		}
	}
	for _, f := range []fixture{u2, cc} {
		for _, m := range f.tokens() {
			e.assertLive(t, m, "%v token of grant for user %q", m.tok.Kind, f.g.UserID)
		}
	}

	n, err = e.b.Tokens.RevokeUser(e.ctx, "user-1")
	require.NoError(t, err)
	assert.Equal(t, 0, n, "second revocation ends nothing")
	n, err = e.b.Tokens.RevokeUser(e.ctx, "nobody")
	require.NoError(t, err)
	assert.Equal(t, 0, n, "unknown user")
	for _, id := range unstorableIDs {
		n, err = e.b.Tokens.RevokeUser(e.ctx, id)
		require.NoError(t, err, "user ID %q", id)
		assert.Zero(t, n, "user ID %q", id)
	}

	// New grants of the user work again.
	fresh := e.storedGrant(t, "client-a", "user-1")
	e.assertLive(t, fresh.access)
}

// Revoking a user's or a client's grants ends those that have expired by
// the store's clock too, without counting them: another instance, whose
// clock is behind, may still see them live (and, with a refresh, extend
// them past the revocation).
func testRevokeEndsExpiredGrants(t *testing.T, e *env) {
	for _, revoke := range e.userClientRevokers() {
		t.Run(revoke.name, func(t *testing.T) {
			// Past its expiry, and at it: a grant is live strictly
			// before its expiry, as a token is.
			for _, past := range []time.Duration{time.Second, 0} {
				f := e.storedGrant(t, "client-a", "user-1")
				ahead := f.g.ExpiresAt.Sub(e.clk.Now()) + past
				e.clk.Advance(ahead) // this instance's clock: the grant has expired
				n, err := revoke.call()
				require.NoError(t, err)
				assert.Zero(t, n, "a grant %v past its expiry is not counted", past)
				e.clk.Advance(-ahead) // an instance whose clock is behind
				for _, m := range f.tokens() {
					e.assertGone(t, m, "%v token of a grant revoked while it looked expired", m.tok.Kind)
				}
			}
		})
	}
}

func testRevokeClient(t *testing.T, e *env) {
	a1 := e.storedGrant(t, "client-a", "user-1")
	a2 := e.storedGrant(t, "client-a", "user-2")
	acc := e.storedGrant(t, "client-a", "")
	b1 := e.storedGrant(t, "client-b", "user-1")
	bcc := e.storedGrant(t, "client-b", "")

	n, err := e.b.Tokens.RevokeClient(e.ctx, "client-a")
	require.NoError(t, err)
	assert.Equal(t, 3, n, "grants of client-a")
	for _, f := range []fixture{a1, a2, acc} {
		for _, m := range f.tokens() {
			e.assertGone(t, m, "client-a's %v token", m.tok.Kind)
		}
	}
	for _, f := range []fixture{b1, bcc} {
		for _, m := range f.tokens() {
			e.assertLive(t, m, "client-b's %v token", m.tok.Kind)
		}
	}

	n, err = e.b.Tokens.RevokeClient(e.ctx, "client-a")
	require.NoError(t, err)
	assert.Equal(t, 0, n, "second revocation ends nothing")
	n, err = e.b.Tokens.RevokeClient(e.ctx, "nobody")
	require.NoError(t, err)
	assert.Equal(t, 0, n, "unknown client")
	for _, id := range unstorableIDs {
		n, err = e.b.Tokens.RevokeClient(e.ctx, id)
		require.NoError(t, err, "client ID %q", id)
		assert.Zero(t, n, "client ID %q", id)
	}
}

// revoker is RevokeUser of user-1 or RevokeClient of client-a, named.
type revoker struct {
	name string
	call func() (int, error)
}

// userClientRevokers are the two revocations of many grants at once that
// clauses run alike: RevokeUser of user-1 and RevokeClient of client-a.
func (e *env) userClientRevokers() []revoker {
	return []revoker{
		{"RevokeUser", func() (int, error) { return e.b.Tokens.RevokeUser(e.ctx, "user-1") }},
		{"RevokeClient", func() (int, error) { return e.b.Tokens.RevokeClient(e.ctx, "client-a") }},
	}
}
