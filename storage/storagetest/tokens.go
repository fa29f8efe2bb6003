package storagetest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// tokenClauses check CreateGrant and LookupToken.
var tokenClauses = []clause{
	{"LookupReturnsTokenAndGrant", testLookupRoundTrip},
	{"CodeBindingRoundTrip", testCodeBinding},
	{"ClientCredentialsHasNoUser", testClientCredentials},
	{"SessionWithoutClientIsFound", testSessionWithoutClient},
	{"DuplicateGrantIsAlreadyExists", testDuplicateGrant},
	{"DuplicateTokenHashIsAlreadyExists", testDuplicateTokenHash},
	{"WrongKindIsNotFound", testWrongKind},
	{"UnknownRefIsNotFound", testUnknownRef},
	{"HashUnderAnotherGrantIsNotFound", testHashUnderAnotherGrant},
	{"ExpiredIsNotFound", testExpiry},
	{"ValuesAreCopies", testGrantCopies},
	{"TimesAreUTC", testTimesAreUTC},
	{"IDsOfOneKiBWork", testLongIDs},
	{"IDsNoRecordCanHaveFindNothing", testUnstorableIDs},
	{"TextIsKeptOrRefusedNeverChanged", testNonUTF8Grant},
	{"TimesOfAnyYearAreKeptOrRefused", testTimesOfAnyYear},
	{"ExpiryOrderedAcrossSeptember2001", testExpiryAcrossADigit},
	{"GrantLastsAsLongAsItsTokens", testGrantLastsAsLongAsItsTokens},
}

func testLookupRoundTrip(t *testing.T, e *env) {
	now := e.clk.Now()
	id := newGrantID(t)
	g := &storage.Grant{
		ID:        id,
		ClientID:  "client-a",
		UserID:    "user-1",
		Username:  "Jöhn Doe \"jd\"",
		Scopes:    []string{"read", "write", "profile"},
		Binding:   "fingerprint-of-the-user-agent",
		CreatedAt: now.Add(-123456789 * time.Nanosecond),
		ExpiresAt: now.Add(refreshTTL),
	}
	access := mint(t, now, storage.KindAccess, id, accessTTL)
	access.tok.Scopes = []string{"read"} // narrowed
	refresh := mint(t, now, storage.KindRefresh, id, refreshTTL)
	session := mint(t, now, storage.KindSession, id, 2*time.Hour)
	session.tok.IssuedAt = now.Add(-5 * time.Second)
	e.store(t, g, access, refresh, session)

	for _, m := range []minted{access, refresh, session} {
		t.Run(m.tok.Kind.String(), func(t *testing.T) {
			ti := e.requireLive(t, m)
			assertToken(t, m.tok, ti.Token)
			assertGrant(t, g, &ti.Grant)
			sameTime(t, g.ExpiresAt, ti.Grant.ExpiresAt, "Grant.ExpiresAt")
		})
	}
	ti := e.requireLive(t, access)
	assert.Equal(t, []string{"read"}, ti.EffectiveScopes(), "narrowed token")
	ti = e.requireLive(t, refresh)
	assert.Equal(t, []string{"read", "write", "profile"}, ti.EffectiveScopes(), "token with the grant's scopes")
}

func testCodeBinding(t *testing.T, e *env) {
	now := e.clk.Now()
	id := newGrantID(t)
	g := &storage.Grant{
		ID:        id,
		ClientID:  "spa",
		UserID:    "user-1",
		Scopes:    []string{"openid"},
		CreatedAt: now,
		ExpiresAt: now.Add(codeTTL),
		Code: &storage.CodeBinding{
			RedirectURI:     "https://spa.example/callback?x=1",
			Challenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
			ChallengeMethod: "S256",
		},
	}
	code := mint(t, now, storage.KindCode, id, codeTTL)
	e.store(t, g, code)
	ti := e.requireLive(t, code)
	assertToken(t, code.tok, ti.Token)
	assertGrant(t, g, &ti.Grant)
}

func testClientCredentials(t *testing.T, e *env) {
	now := e.clk.Now()
	id := newGrantID(t)
	g := &storage.Grant{
		ID:        id,
		ClientID:  "service",
		Scopes:    []string{"read"},
		CreatedAt: now,
		ExpiresAt: now.Add(accessTTL),
	}
	access := mint(t, now, storage.KindAccess, id, accessTTL)
	e.store(t, g, access)
	ti := e.requireLive(t, access)
	assert.Empty(t, ti.Grant.UserID, "client_credentials grant has no user")
	assertGrant(t, g, &ti.Grant)
	assertToken(t, access.tok, ti.Token)
}

// testDuplicateTokenHash checks that a new grant whose tokens share a
// hash is refused, all or nothing (the 256 random bits make it
// impossible but for a caller's mistake).
func testDuplicateTokenHash(t *testing.T, e *env) {
	f := e.newGrant(t, "client-a", "user-1")
	a := mint(t, e.clk.Now(), storage.KindAccess, f.g.ID, accessTTL)
	twin := a
	twin.tok.Kind = storage.KindRefresh
	err := e.b.Tokens.CreateGrant(e.ctx, f.g, a.tok, twin.tok)
	assert.ErrorIs(t, err, storage.ErrAlreadyExists)
	e.assertGone(t, a, "nothing of the refused grant is stored")
}

func testDuplicateGrant(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")

	// Same grant ID, new tokens: refused, all or nothing.
	now := e.clk.Now()
	dup := *f.g
	dup.UserID = "user-2"
	other := mint(t, now, storage.KindAccess, f.g.ID, accessTTL)
	err := e.b.Tokens.CreateGrant(e.ctx, &dup, other.tok)
	assert.ErrorIs(t, err, storage.ErrAlreadyExists)
	e.assertGone(t, other, "a token of a refused grant is not stored")
	ti := e.requireLive(t, f.access, "the first grant is untouched")
	assert.Equal(t, "user-1", ti.Grant.UserID, "the first grant is untouched")
	e.assertLive(t, f.refresh)
}

func testWrongKind(t *testing.T, e *env) {
	now := e.clk.Now()
	f := e.newGrant(t, "client-a", "user-1")
	session := mint(t, now, storage.KindSession, f.g.ID, accessTTL)
	code := mint(t, now, storage.KindCode, f.g.ID, codeTTL)
	all := []minted{f.access, f.refresh, session, code}
	e.store(t, f.g, all...)

	kinds := []storage.TokenKind{storage.KindAccess, storage.KindRefresh, storage.KindSession, storage.KindCode}
	for _, m := range all {
		for _, k := range kinds {
			if k == m.tok.Kind {
				continue
			}
			ti, err := e.b.Tokens.LookupToken(e.ctx, k, m.ref)
			assert.ErrorIs(t, err, storage.ErrNotFound, "%v token looked up as %v", m.tok.Kind, k)
			assert.Nil(t, ti)
		}
		e.assertLive(t, m, "%v token under its own kind", m.tok.Kind)
	}
}

func testUnknownRef(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	now := e.clk.Now()

	// A token of a grant that was never stored.
	stranger := mint(t, now, storage.KindAccess, newGrantID(t), accessTTL)
	e.assertGone(t, stranger, "unknown grant")

	// A token minted for the stored grant but never stored.
	unstored := mint(t, now, storage.KindAccess, f.g.ID, accessTTL)
	e.assertGone(t, unstored, "unknown hash of a known grant")

	// The zero reference.
	ti, err := e.b.Tokens.LookupToken(e.ctx, storage.KindAccess, storage.TokenRef{})
	assert.ErrorIs(t, err, storage.ErrNotFound, "zero ref")
	assert.Nil(t, ti)
}

func testHashUnderAnotherGrant(t *testing.T, e *env) {
	a := e.storedGrant(t, "client-a", "user-1")
	b := e.storedGrant(t, "client-a", "user-1")

	// The right hash with the ID of another stored grant.
	moved := a.access
	moved.ref.GrantID = b.g.ID
	e.assertGone(t, moved, "hash of grant A under grant B")

	// The right hash with an unknown grant ID.
	moved.ref.GrantID = newGrantID(t)
	e.assertGone(t, moved, "hash of grant A under an unknown grant")

	e.assertLive(t, a.access)
	e.assertLive(t, b.access)
}

func testExpiry(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")

	e.clk.Advance(accessTTL - time.Millisecond)
	e.assertLive(t, f.access, "just before its expiry")
	e.clk.Advance(2 * time.Millisecond)
	e.assertGone(t, f.access, "just after its expiry")
	e.assertLive(t, f.refresh, "the refresh token lives longer")

	e.clk.Advance(refreshTTL - accessTTL - 2*time.Millisecond)
	e.assertLive(t, f.refresh, "just before its expiry")
	e.clk.Advance(2 * time.Millisecond)
	e.assertGone(t, f.refresh, "just after its expiry")

	// A grant ends its tokens: a token that outlives its grant's stored
	// expiry is not possible (stores keep the grant at least as late),
	// but a grant given an early expiry is not returned after it.
	now := e.clk.Now()
	id := newGrantID(t)
	short := &storage.Grant{ID: id, ClientID: "client-a", UserID: "user-1", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	tok := mint(t, now, storage.KindAccess, id, time.Minute)
	e.store(t, short, tok)
	e.assertLive(t, tok)
	e.clk.Advance(time.Minute + time.Millisecond)
	e.assertGone(t, tok, "grant and token expired")
}

func testGrantCopies(t *testing.T, e *env) {
	f := e.newGrant(t, "client-a", "user-1")
	f.access.tok.Scopes = []string{"read"}
	want := *f.g
	want.Scopes = []string{"read", "write"}
	e.store(t, f.g, f.tokens()...)
	f.g.Scopes[0] = "mutated-after-create"
	f.g.UserID = "mutated"

	ti := e.requireLive(t, f.access)
	assertGrant(t, &want, &ti.Grant)
	ti.Grant.Scopes[0] = "admin"
	ti.Token.Scopes[0] = "admin"
	ti.Grant.UserID = "someone-else"

	again := e.requireLive(t, f.access)
	assertGrant(t, &want, &again.Grant)
	assert.Equal(t, []string{"read"}, again.Token.Scopes)
}

// testSessionWithoutClient: a cookie session's grant belongs to no client
// (an empty ClientID); it is found like any other.
func testSessionWithoutClient(t *testing.T, e *env) {
	now := e.clk.Now()
	id := newGrantID(t)
	g := &storage.Grant{ID: id, UserID: "user-1", Username: "user-1", CreatedAt: now, ExpiresAt: now.Add(2 * time.Hour)}
	session := mint(t, now, storage.KindSession, id, 2*time.Hour)
	e.store(t, g, session)
	ti := e.requireLive(t, session)
	assertToken(t, session.tok, ti.Token)
	assertGrant(t, g, &ti.Grant)
	assert.Empty(t, ti.Grant.ClientID)
}

// Times read back are in UTC, whatever the process's time zone.
func testTimesAreUTC(t *testing.T, e *env) {
	f := e.storedGrant(t, "client-a", "user-1")
	ti := e.requireLive(t, f.access)
	for name, tm := range map[string]time.Time{
		"token issued": ti.Token.IssuedAt, "token expires": ti.Token.ExpiresAt,
		"grant created": ti.Grant.CreatedAt, "grant expires": ti.Grant.ExpiresAt,
	} {
		assert.Equal(t, time.UTC, tm.Location(), name)
	}
	a2, r2 := e.nextPair(t, f.g.ID)
	g, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2))
	require.NoError(t, err)
	assert.Equal(t, time.UTC, g.CreatedAt.Location(), "exchanged grant created")
	assert.Equal(t, time.UTC, g.ExpiresAt.Location(), "exchanged grant expires")
}

// Times of any year come back as they were written, or are refused when
// written (a store whose encoding cannot hold them); never as another
// time. The provider writes only times near now; code that calls a store
// directly may write a placeholder far away (year 9999 for "never").
func testTimesOfAnyYear(t *testing.T, e *env) {
	now := e.clk.Now()
	past := time.Date(1600, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	future := time.Date(2500, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	for name, c := range map[string]struct{ created, issued, expires, grantExpires time.Time }{
		"created in 1600": {past, now, now.Add(time.Hour), time.Time{}},
		"issued in 1600":  {now, past, now.Add(time.Hour), time.Time{}},
		"issued in 2500":  {now, future, now.Add(time.Hour), time.Time{}},
		"expires in 2500": {now, now, future, time.Time{}},
		// The zero time ("unknown") is no time of the year 1: it is
		// kept, or refused.
		"created and issued at the zero time": {time.Time{}, time.Time{}, now.Add(time.Hour), time.Time{}},
		// Only the grant is far away: the token, within range, does not
		// refuse it for the grant.
		"grant expires in 2500": {now, now, now.Add(time.Hour), future},
		// Only the token is far away: the grant, within range, does not
		// let it through (the grant is kept as long as its token).
		"token expires in 2500": {now, now, future, now.Add(time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			if c.grantExpires.IsZero() {
				c.grantExpires = c.expires
			}
			id := newGrantID(t)
			g := &storage.Grant{ID: id, ClientID: "client-a", UserID: "user-1", CreatedAt: c.created, ExpiresAt: c.grantExpires}
			m := mint(t, now, storage.KindAccess, id, time.Hour)
			m.tok.IssuedAt, m.tok.ExpiresAt = c.issued, c.expires
			if err := e.b.Tokens.CreateGrant(e.ctx, g, m.tok); err != nil {
				assert.NotErrorIs(t, err, storage.ErrAlreadyExists)
				e.assertGone(t, m, "a refused grant is not stored")
				return
			}
			ti := e.requireLive(t, m)
			sameTime(t, c.created, ti.Grant.CreatedAt, "Grant.CreatedAt")
			grantExpires := c.grantExpires
			if c.expires.After(grantExpires) {
				grantExpires = c.expires
			}
			sameTime(t, grantExpires, ti.Grant.ExpiresAt, "Grant.ExpiresAt")
			sameTime(t, c.issued, ti.Token.IssuedAt, "Token.IssuedAt")
			sameTime(t, c.expires, ti.Token.ExpiresAt, "Token.ExpiresAt")
		})
	}

	// One far token among the issued ones is enough to refuse the
	// exchange, or it is kept with the rest: never dropped or changed
	// while the others are stored.
	for name, far := range map[string]struct{ issued, expires bool }{
		"exchanged for tokens of 2500":             {true, true},
		"exchanged for an access issued in 2500":   {issued: true},
		"exchanged for a refresh expiring in 2500": {expires: true},
	} {
		t.Run(name, func(t *testing.T) {
			f := e.storedGrant(t, "client-a", "user-1")
			a2, r2 := e.nextPair(t, f.g.ID)
			if far.issued {
				a2.tok.IssuedAt = future
			}
			if far.expires {
				r2.tok.ExpiresAt = future
			}
			if _, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2)); err != nil {
				assert.NotErrorIs(t, err, storage.ErrTokenReused)
				e.requireLive(t, f.refresh, "a refused exchange consumes nothing")
				e.assertGone(t, a2, "a refused exchange stores nothing")
				e.assertGone(t, r2, "a refused exchange stores nothing")
				return
			}
			sameTime(t, a2.tok.IssuedAt, e.requireLive(t, a2).Token.IssuedAt, "Token.IssuedAt")
			ti := e.requireLive(t, r2)
			sameTime(t, r2.tok.ExpiresAt, ti.Token.ExpiresAt, "Token.ExpiresAt")
			if far.expires {
				sameTime(t, future, ti.Grant.ExpiresAt, "Grant.ExpiresAt")
			}
		})
	}

	t.Run("extended to 2500", func(t *testing.T) {
		f := e.storedGrant(t, "client-a", "user-1")
		if err := e.b.Tokens.ExtendToken(e.ctx, f.access.ref, future); err != nil {
			assert.NotErrorIs(t, err, storage.ErrNotFound)
			sameTime(t, f.access.tok.ExpiresAt, e.requireLive(t, f.access).Token.ExpiresAt, "a refused extension extends nothing")
			return
		}
		ti := e.requireLive(t, f.access)
		sameTime(t, future, ti.Token.ExpiresAt, "Token.ExpiresAt")
		sameTime(t, future, ti.Grant.ExpiresAt, "Grant.ExpiresAt")
	})
}

// A grant created with an expiry before its tokens' is kept as long as
// they are (Grant.ExpiresAt: "at least as late as the latest expiry of
// the grant's tokens"), not ended early with its tokens still to come.
func testGrantLastsAsLongAsItsTokens(t *testing.T, e *env) {
	f := e.newGrant(t, "client-a", "user-1")
	f.g.ExpiresAt = f.access.tok.ExpiresAt.Add(-time.Minute)
	e.store(t, f.g, f.access)
	sameTime(t, f.access.tok.ExpiresAt, e.requireLive(t, f.access).Grant.ExpiresAt, "Grant.ExpiresAt")
	e.clk.Advance(accessTTL - time.Second)
	e.requireLive(t, f.access, "a second before the token expires, past the grant's expiry as given")
}

// Unix nanoseconds gain a digit at 2001-09-09T01:46:40Z (1e18): a store
// that compares instants as decimal text must weigh their lengths first,
// or a token expiring after that instant is expired before it, and one
// expiring before it is live after it. Lookup, exchange and extension all
// tell them apart.
func testExpiryAcrossADigit(t *testing.T, e *env) {
	digit := time.Unix(1e9, 0).UTC()
	e.clk.Advance(digit.Add(-2 * time.Hour).Sub(e.clk.Now()))

	// early's tokens expire before the digit, late's after it; both
	// grants end well after it.
	early := e.newGrant(t, "client-a", "user-1")
	early.g.ExpiresAt = digit.Add(refreshTTL)
	early.access.tok.ExpiresAt = digit.Add(-time.Hour)
	early.refresh.tok.ExpiresAt = digit.Add(-time.Hour)
	e.store(t, early.g, early.tokens()...)
	late := e.newGrant(t, "client-a", "user-1")
	late.access.tok.ExpiresAt = digit.Add(time.Hour)
	e.store(t, late.g, late.tokens()...)

	// Before the digit, the tokens expiring after it are live.
	e.requireLive(t, late.access)
	require.NoError(t, e.b.Tokens.ExtendToken(e.ctx, late.access.ref, digit.Add(2*time.Hour)),
		"extending a token live across the digit")
	sameTime(t, digit.Add(2*time.Hour), e.requireLive(t, late.access).Token.ExpiresAt, "extended Token.ExpiresAt")
	a2, r2 := e.nextPair(t, late.g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(late.refresh, "client-a", a2, r2))
	require.NoError(t, err, "exchanging a refresh token that expires after the digit")
	e.requireLive(t, r2)

	// After it, the tokens that expired before it are expired.
	e.clk.Advance(3 * time.Hour)
	e.assertGone(t, early.access)
	e.assertGone(t, early.refresh)
	assert.ErrorIs(t, e.b.Tokens.ExtendToken(e.ctx, early.access.ref, digit.Add(2*time.Hour)), storage.ErrNotFound,
		"extending a token that expired before the digit")
	a3, r3 := e.nextPair(t, early.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(early.refresh, "client-a", a3, r3))
	assert.ErrorIs(t, err, storage.ErrNotFound, "exchanging a refresh token that expired before the digit")
	e.assertGone(t, r3, "a refused exchange issues nothing")
}

// A user ID and a client ID of 1 KiB each are stored, found and revoked
// by every store (Postgres indexes them, whose entries have a size limit).
func testLongIDs(t *testing.T, e *env) {
	long := func(c byte) string { return strings.Repeat(string(c), 1024) }
	f := e.newGrant(t, long('c'), long('u'))
	require.NoError(t, e.b.Tokens.CreateGrant(e.ctx, f.g, records(f.tokens())...))
	ti := e.requireLive(t, f.access)
	assert.Equal(t, long('u'), ti.Grant.UserID)
	n, err := e.b.Tokens.RevokeClient(e.ctx, long('c'))
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	f = e.newGrant(t, "client-a", long('u'))
	require.NoError(t, e.b.Tokens.CreateGrant(e.ctx, f.g, records(f.tokens())...))
	n, err = e.b.Tokens.RevokeUser(e.ctx, long('u'))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// IDs that no record can have in some store (invalid UTF-8, a NUL byte:
// Postgres text holds neither) find nothing: not found, nothing revoked.
// They are no error of the store, which would read as an outage.
func testUnstorableIDs(t *testing.T, e *env) {
	for _, id := range []string{"\xff", "a\x00b"} {
		m := mint(t, e.clk.Now(), storage.KindAccess, newGrantID(t), time.Hour)
		_, err := e.b.Tokens.LookupToken(e.ctx, storage.KindAccess, storage.TokenRef{GrantID: id, Hash: m.ref.Hash})
		assert.ErrorIs(t, err, storage.ErrNotFound, "LookupToken %q", id)
		assert.ErrorIs(t, e.b.Tokens.ExtendToken(e.ctx, storage.TokenRef{GrantID: id, Hash: m.ref.Hash}, e.clk.Now().Add(time.Hour)),
			storage.ErrNotFound, "ExtendToken %q", id)
		_, err = e.b.Tokens.ExchangeToken(e.ctx, storage.Exchange{Kind: storage.KindRefresh,
			Presented: storage.TokenRef{GrantID: id, Hash: m.ref.Hash}, ClientID: "client-a"})
		assert.ErrorIs(t, err, storage.ErrNotFound, "ExchangeToken of grant %q", id)
		f := e.storedGrant(t, "client-a", "user-1")
		_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, id))
		assert.ErrorIs(t, err, storage.ErrNotFound, "ExchangeToken by client %q", id)
		e.assertLive(t, f.refresh, "not consumed")
		assert.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, id), "RevokeGrant %q", id)
		n, err := e.b.Tokens.RevokeUser(e.ctx, id)
		assert.NoError(t, err, "RevokeUser %q", id)
		assert.Zero(t, n)
		n, err = e.b.Tokens.RevokeClient(e.ctx, id)
		assert.NoError(t, err, "RevokeClient %q", id)
		assert.Zero(t, n)
		_, err = e.b.Clients.GetClient(e.ctx, id)
		assert.ErrorIs(t, err, storage.ErrNotFound, "GetClient %q", id)
		assert.ErrorIs(t, e.b.Clients.UpdateClient(e.ctx, e.fullClient(id)), storage.ErrNotFound, "UpdateClient %q", id)
	}
}

// Text that is not valid UTF-8 in a grant (scopes, the code binding, the
// user) comes back as it was written, or the grant is refused: a store
// never changes it (as encoding/json would, to U+FFFD).
func testNonUTF8Grant(t *testing.T, e *env) {
	now := e.clk.Now()
	id := newGrantID(t)
	g := &storage.Grant{ID: id, ClientID: "spa", UserID: "u\xff", Username: "n\xfe", Scopes: []string{"s\xff"},
		CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		Code: &storage.CodeBinding{RedirectURI: "https://a.example/cb?x=\xff", Challenge: "c", ChallengeMethod: "plain"}}
	code := mint(t, now, storage.KindCode, id, time.Minute)
	if err := e.b.Tokens.CreateGrant(e.ctx, g, code.tok); err != nil {
		assert.NotErrorIs(t, err, storage.ErrAlreadyExists)
		e.assertGone(t, code, "refused whole")
		return
	}
	ti := e.requireLive(t, code)
	assertGrant(t, g, &ti.Grant)
}
