package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// Lifetimes of the tokens the fixtures issue.
const (
	accessTTL  = time.Hour
	refreshTTL = 24 * time.Hour
	codeTTL    = 10 * time.Minute
)

// minted is a token as the provider makes it: the string handed to the
// client, the reference a store finds it by and the record it stores.
type minted struct {
	raw string
	ref storage.TokenRef
	tok storage.Token
}

// mint makes a real token of kind k for grantID, issued now and expiring
// after ttl.
func mint(t *testing.T, now time.Time, k storage.TokenKind, grantID string, ttl time.Duration) minted {
	t.Helper()
	raw, ref, err := token.New(k, grantID)
	require.NoError(t, err)
	return minted{raw: raw, ref: ref, tok: storage.Token{
		Hash:      ref.Hash,
		Kind:      k,
		GrantID:   grantID,
		IssuedAt:  now,
		ExpiresAt: now.Add(ttl),
	}}
}

// newGrantID returns a fresh random grant ID.
func newGrantID(t *testing.T) string {
	t.Helper()
	id, err := token.NewGrantID()
	require.NoError(t, err)
	return id
}

// fixture is a stored grant with an access and a refresh token.
type fixture struct {
	g       *storage.Grant
	access  minted
	refresh minted
}

// tokens returns the fixture's tokens.
func (f fixture) tokens() []minted { return []minted{f.access, f.refresh} }

// newGrant builds (without storing) a grant of client for user, created now
// and expiring with its refresh token.
func (e *env) newGrant(t *testing.T, clientID, userID string) fixture {
	t.Helper()
	now := e.clk.Now()
	id := newGrantID(t)
	return fixture{
		g: &storage.Grant{
			ID:        id,
			ClientID:  clientID,
			UserID:    userID,
			Username:  "name of " + userID,
			Scopes:    []string{"read", "write"},
			CreatedAt: now,
			ExpiresAt: now.Add(refreshTTL),
		},
		access:  mint(t, now, storage.KindAccess, id, accessTTL),
		refresh: mint(t, now, storage.KindRefresh, id, refreshTTL),
	}
}

// store stores the grant with the given tokens, failing the test on error.
func (e *env) store(t *testing.T, g *storage.Grant, toks ...minted) {
	t.Helper()
	require.NoError(t, e.b.Tokens.CreateGrant(e.ctx, g, records(toks)...), "CreateGrant")
}

// storedGrant builds and stores a grant of client for user with an access
// and a refresh token.
func (e *env) storedGrant(t *testing.T, clientID, userID string) fixture {
	t.Helper()
	f := e.newGrant(t, clientID, userID)
	e.store(t, f.g, f.tokens()...)
	return f
}

// records returns the stored records of toks.
func records(toks []minted) []storage.Token {
	out := make([]storage.Token, len(toks))
	for i, m := range toks {
		out[i] = m.tok
	}
	return out
}

// refreshExchange returns an exchange of the refresh token presented for
// client that issues next.
func refreshExchange(presented minted, clientID string, next ...minted) storage.Exchange {
	issue := records(next)
	for i := range issue {
		issue[i].GrantID = "" // the store sets it
	}
	return storage.Exchange{
		Kind:      storage.KindRefresh,
		Presented: presented.ref,
		ClientID:  clientID,
		Issue:     issue,
	}
}

// lookup looks m up under its own kind. When the store is a
// [storage.TokenInfoFiller], it checks that LookupTokenInto, into a
// TokenInfo holding leftovers, finds the same.
func (e *env) lookup(t *testing.T, m minted) (*storage.TokenInfo, error) {
	t.Helper()
	ti, err := e.b.Tokens.LookupToken(e.ctx, m.tok.Kind, m.ref)
	if f, ok := e.b.Tokens.(storage.TokenInfoFiller); ok {
		dst := storage.TokenInfo{
			Token: storage.Token{Scopes: []string{"leftover"}, GrantID: "leftover"},
			Grant: storage.Grant{ID: "leftover", Scopes: []string{"leftover"}, Code: &storage.CodeBinding{RedirectURI: "leftover"}},
		}
		errInto := f.LookupTokenInto(e.ctx, m.tok.Kind, m.ref, e.clk.Now(), &dst)
		if err != nil {
			assert.ErrorIs(t, errInto, storage.ErrNotFound, "LookupTokenInto where LookupToken finds nothing")
		} else if assert.NoError(t, errInto, "LookupTokenInto where LookupToken finds the token") {
			assert.Equal(t, *ti, dst, "LookupTokenInto finds what LookupToken does")
		}
	}
	return ti, err
}

// requireLive fails unless m is found live, and returns what was found.
func (e *env) requireLive(t *testing.T, m minted, msgAndArgs ...any) *storage.TokenInfo {
	t.Helper()
	ti, err := e.lookup(t, m)
	require.NoError(t, err, msgAndArgs...)
	require.NotNil(t, ti, msgAndArgs...)
	return ti
}

// assertGone checks that m is not found, with ErrNotFound.
func (e *env) assertGone(t *testing.T, m minted, msgAndArgs ...any) {
	t.Helper()
	ti, err := e.lookup(t, m)
	assert.ErrorIs(t, err, storage.ErrNotFound, msgAndArgs...)
	assert.Nil(t, ti, msgAndArgs...)
}

// assertLive checks that m is found live.
func (e *env) assertLive(t *testing.T, m minted, msgAndArgs ...any) {
	t.Helper()
	_, err := e.lookup(t, m)
	assert.NoError(t, err, msgAndArgs...)
}

// sameTime checks that got is want to the microsecond, the precision every
// backend keeps (Postgres stores microseconds).
func sameTime(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	w, g := want.Truncate(time.Microsecond), got.Truncate(time.Microsecond)
	assert.Truef(t, w.Equal(g), "%s: want %v, got %v", what, w, g)
}

// notBefore checks that got is want or later, to the microsecond.
func notBefore(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	w, g := want.Truncate(time.Microsecond), got.Truncate(time.Microsecond)
	assert.Falsef(t, g.Before(w), "%s: want %v or later, got %v", what, w, g)
}

// sameList checks a list field where nil and empty mean the same.
func sameList(t *testing.T, want, got []string, what string) {
	t.Helper()
	if len(want) == 0 {
		assert.Emptyf(t, got, "%s", what)
		return
	}
	assert.Equalf(t, want, got, "%s", what)
}

// assertGrant checks every field of got against want. The expiry may have
// been moved later by the store, never earlier.
func assertGrant(t *testing.T, want, got *storage.Grant) {
	t.Helper()
	require.NotNil(t, got, "grant")
	assert.Equal(t, want.ID, got.ID, "Grant.ID")
	assert.Equal(t, want.ClientID, got.ClientID, "Grant.ClientID")
	assert.Equal(t, want.UserID, got.UserID, "Grant.UserID")
	assert.Equal(t, want.Username, got.Username, "Grant.Username")
	sameList(t, want.Scopes, got.Scopes, "Grant.Scopes")
	assert.Equal(t, want.Binding, got.Binding, "Grant.Binding")
	sameTime(t, want.CreatedAt, got.CreatedAt, "Grant.CreatedAt")
	notBefore(t, want.ExpiresAt, got.ExpiresAt, "Grant.ExpiresAt")
	if want.Code == nil {
		assert.Nil(t, got.Code, "Grant.Code")
	} else if assert.NotNil(t, got.Code, "Grant.Code") {
		assert.Equal(t, *want.Code, *got.Code, "Grant.Code")
	}
}

// assertToken checks every field of got against want. Scopes keep the
// difference between nil (the grant's scopes) and a narrowed list.
func assertToken(t *testing.T, want, got storage.Token) {
	t.Helper()
	assert.Equal(t, want.Hash, got.Hash, "Token.Hash")
	assert.Equal(t, want.Kind, got.Kind, "Token.Kind")
	assert.Equal(t, want.GrantID, got.GrantID, "Token.GrantID")
	if want.Scopes == nil {
		assert.Nil(t, got.Scopes, "Token.Scopes: nil means the grant's scopes")
	} else {
		assert.Equal(t, want.Scopes, got.Scopes, "Token.Scopes")
	}
	sameTime(t, want.IssuedAt, got.IssuedAt, "Token.IssuedAt")
	sameTime(t, want.ExpiresAt, got.ExpiresAt, "Token.ExpiresAt")
}

// errCheck is what a failing Exchange.Check returns in the suite.
var errCheck = errors.New("storagetest: check refused")

// soleWinner asserts that exactly one of errs, the errors of concurrent
// calls (what, for messages), is nil and that every other is loser. It
// returns the winner's index, or -1 after failing t when there is none.
func soleWinner(t *testing.T, errs []error, loser error, what string) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		if err == nil {
			assert.Equal(t, -1, winner, "%s: calls %d and %d both succeeded", what, winner, i)
			winner = i
			continue
		}
		assert.ErrorIs(t, err, loser, "%s: call %d", what, i)
	}
	if winner == -1 {
		t.Errorf("%s: no call succeeded", what)
	}
	return winner
}
