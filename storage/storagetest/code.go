package storagetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// codeClauses check the authorization code as the provider uses it: a
// KindCode token, alone in a new grant that lives as long as the code (60
// s), exchanged once for an access and a refresh token.
var codeClauses = []clause{
	{"ExchangeOutlivesCode", testCodeExchangeOutlivesCode},
	{"ExpiredIsNotFound", testCodeExpired},
	{"ReuseRevokesRotatedTokens", testCodeReuseAfterRotation},
	{"ConcurrentOneWinner", testCodeRace},
}

// codeLife is the lifetime of the provider's authorization codes.
const codeLife = 60 * time.Second

// storedCode stores a new code grant of client "spa" for user-1 and
// returns it with the code.
func (e *env) storedCode(t *testing.T) (*storage.Grant, minted) {
	t.Helper()
	now := e.clk.Now()
	id := newGrantID(t)
	g := &storage.Grant{
		ID:        id,
		ClientID:  "spa",
		UserID:    "user-1",
		Scopes:    []string{"read"},
		CreatedAt: now,
		ExpiresAt: now.Add(codeLife),
		Code: &storage.CodeBinding{
			RedirectURI:     "http://127.0.0.1:8081/callback",
			Challenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
			ChallengeMethod: "S256",
		},
	}
	code := mint(t, now, storage.KindCode, id, codeLife)
	e.store(t, g, code)
	return g, code
}

// codeExchange returns the exchange of code for client that issues next.
func codeExchange(code minted, clientID string, next ...minted) storage.Exchange {
	x := refreshExchange(code, clientID, next...)
	x.Kind = storage.KindCode
	return x
}

// testCodeExchangeOutlivesCode checks that the tokens a code is exchanged
// for live past the code's (and the grant's first) expiry.
func testCodeExchangeOutlivesCode(t *testing.T, e *env) {
	g, code := e.storedCode(t)
	e.clk.Advance(30 * time.Second)
	a1, r1 := e.nextPair(t, g.ID)
	got, err := e.b.Tokens.ExchangeToken(e.ctx, codeExchange(code, "spa", a1, r1))
	require.NoError(t, err)
	notBefore(t, r1.tok.ExpiresAt, got.ExpiresAt, "returned Grant.ExpiresAt")

	e.clk.Advance(2 * codeLife)
	ti := e.requireLive(t, a1, "access token after the code's expiry")
	assertGrant(t, g, &ti.Grant)
	e.assertLive(t, r1, "refresh token after the code's expiry")
	e.assertGone(t, code)
}

func testCodeExpired(t *testing.T, e *env) {
	g, code := e.storedCode(t)
	e.clk.Advance(codeLife)
	a1, r1 := e.nextPair(t, g.ID)
	got, err := e.b.Tokens.ExchangeToken(e.ctx, codeExchange(code, "spa", a1, r1))
	assert.ErrorIs(t, err, storage.ErrNotFound, "a code at its expiry")
	assert.Nil(t, got)
	e.assertGone(t, a1, "nothing issued")
	e.assertGone(t, r1, "nothing issued")
}

// testCodeReuseAfterRotation checks RFC 6749 §4.1.2: a reused code revokes
// every token issued from it, including those of later refreshes.
func testCodeReuseAfterRotation(t *testing.T, e *env) {
	g, code := e.storedCode(t)
	a1, r1 := e.nextPair(t, g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, codeExchange(code, "spa", a1, r1))
	require.NoError(t, err)
	e.clk.Advance(10 * time.Second)
	a2, r2 := e.nextPair(t, g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(r1, "spa", a2, r2))
	require.NoError(t, err)

	_, err = e.b.Tokens.ExchangeToken(e.ctx, codeExchange(code, "spa"))
	assert.ErrorIs(t, err, storage.ErrTokenReused)
	assertReuseNames(t, err, g, "the code's reuse")
	for _, m := range []minted{a1, a2, r2} {
		e.assertGone(t, m, "reused code revokes the %v token", m.tok.Kind)
	}
}

func testCodeRace(t *testing.T, e *env) {
	g, code := e.storedCode(t)
	e.race(t, g.ID, "exactly one exchange of a code wins", func(a, r minted) storage.Exchange {
		return codeExchange(code, "spa", a, r)
	})
}
