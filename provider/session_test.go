package provider_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sessionRequest() *http.Request {
	return apiRequest("192.0.2.1:1", "Firefox", "")
}

func TestSessionLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	raw, exp, err := e.p.CreateSession(sessionRequest(), "user-1", []string{"read"}, time.Hour)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(raw, "ost_"), raw)
	assert.Equal(t, e.clock.Now().Add(time.Hour), exp)

	ti, err := e.p.ValidateSession(sessionRequest(), raw)
	require.NoError(t, err)
	assert.Equal(t, provider.SessionClientID, ti.Grant.ClientID)
	assert.Equal(t, "user-1", ti.Grant.UserID)
	assert.Equal(t, []string{"read"}, ti.EffectiveScopes())
	assert.Empty(t, ti.Grant.Binding, "binding is off")

	_, err = e.p.ValidateAccessToken(sessionRequest(), raw)
	assert.ErrorIs(t, err, provider.ErrInvalidToken, "a session token is no access token")

	e.clock.Advance(50 * time.Minute)
	require.NoError(t, e.p.ExtendSession(context.Background(), raw, e.clock.Now().Add(time.Hour)))
	e.clock.Advance(30 * time.Minute)
	_, err = e.p.ValidateSession(sessionRequest(), raw)
	require.NoError(t, err, "extended past its first expiry")

	require.NoError(t, e.p.EndSession(context.Background(), raw))
	_, err = e.p.ValidateSession(sessionRequest(), raw)
	assert.ErrorIs(t, err, provider.ErrInvalidToken)
	assert.ErrorIs(t, e.p.EndSession(context.Background(), raw), provider.ErrInvalidToken)
	assert.ErrorIs(t, e.p.ExtendSession(context.Background(), raw, e.clock.Now().Add(time.Hour)), provider.ErrInvalidToken)
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t, nil)
	raw, _, err := e.p.CreateSession(sessionRequest(), "user-1", nil, time.Hour)
	require.NoError(t, err)
	e.clock.Advance(time.Hour)
	_, err = e.p.ValidateSession(sessionRequest(), raw)
	assert.ErrorIs(t, err, provider.ErrInvalidToken)
}

// A forged session token that names a real grant ID (grant IDs are not
// secret) must not end that grant.
func TestEndSessionForgedTokenEndsNothing(t *testing.T) {
	e := newEnv(t, nil)
	raw, _, err := e.p.CreateSession(sessionRequest(), "user-1", nil, time.Hour)
	require.NoError(t, err)
	ti, err := e.p.ValidateSession(sessionRequest(), raw)
	require.NoError(t, err)
	forged := forgeToken(t, "ost_", ti.Grant.ID)
	ref, err := token.Parse(storage.KindSession, forged)
	require.NoError(t, err, "the forgery is well formed: only the store can refuse it")
	require.Equal(t, ti.Grant.ID, ref.GrantID)
	assert.ErrorIs(t, e.p.EndSession(context.Background(), forged), provider.ErrInvalidToken)
	_, err = e.p.ValidateSession(sessionRequest(), raw)
	assert.NoError(t, err, "the real session lives on")
}

// forgeToken makes a well-formed token with prefix for grantID from a
// real one of another grant: it passes the checksum but not the store.
func forgeToken(t *testing.T, prefix, grantID string) string {
	t.Helper()
	e := newEnv(t, nil)
	other, _, err := e.p.CreateSession(sessionRequest(), "x", nil, time.Hour)
	require.NoError(t, err)
	body := other[len(prefix)+len(grantID) : len(other)-6]
	s := prefix + grantID + body
	return s + checksum(s)
}

func TestCreateSessionRefusesBadInput(t *testing.T) {
	e := newEnv(t, nil)
	_, _, err := e.p.CreateSession(sessionRequest(), "", nil, time.Hour)
	assert.Error(t, err)
	_, _, err = e.p.CreateSession(sessionRequest(), "user-1", nil, time.Millisecond)
	assert.Error(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = e.p.CreateSession(sessionRequest().WithContext(ctx), "user-1", nil, time.Hour)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestSessionStoreOutage(t *testing.T) {
	e := newEnv(t, nil)
	raw, _, err := e.p.CreateSession(sessionRequest(), "user-1", nil, time.Hour)
	require.NoError(t, err)
	e.store.setFail(errUserDBDown)
	_, err = e.p.ValidateSession(sessionRequest(), raw)
	require.Error(t, err)
	assert.NotErrorIs(t, err, provider.ErrInvalidToken, "an outage is no invalid token")
	assert.NotContains(t, err.Error(), raw)
	_, _, err = e.p.CreateSession(sessionRequest(), "user-1", nil, time.Hour)
	assert.Error(t, err)
}

func TestBoundSession(t *testing.T) {
	e := newBoundEnv(t)
	raw, _, err := e.p.CreateSession(sessionRequest(), "user-1", nil, time.Hour)
	require.NoError(t, err)
	_, err = e.p.ValidateSession(apiRequest("192.0.2.1:9", "Firefox", "198.51.100.1"), raw)
	require.NoError(t, err, "a spoofed X-Forwarded-For from an untrusted peer changes nothing")
	_, err = e.p.ValidateSession(apiRequest("192.0.2.1:9", "Chrome", ""), raw)
	assert.ErrorIs(t, err, provider.ErrInvalidToken)
	_, err = e.p.ValidateSession(sessionRequest(), raw)
	assert.ErrorIs(t, err, provider.ErrInvalidToken, "the mismatch ended the session")
}

// checksum is the token format's CRC-32 suffix of s.
func checksum(s string) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE([]byte(s)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// A TTL of exactly one second is the shortest a session may have, and is
// taken. The session's grant ends with its token: the store may reclaim
// it then.
func TestCreateSessionTakesATTLOfOneSecond(t *testing.T) {
	e := newEnv(t, nil)
	raw, exp, err := e.p.CreateSession(sessionRequest(), "user-1", nil, time.Second)
	require.NoError(t, err)
	assert.Equal(t, e.clock.Now().Add(time.Second), exp)
	ti, err := e.p.ValidateSession(sessionRequest(), raw)
	require.NoError(t, err)
	assert.Equal(t, exp, ti.Grant.ExpiresAt, "the grant's expiry")
}

// A browser that goes right after its logout does not cancel it: the
// session is looked up and ended all the same by a store that, as
// networked ones do, fails every call made with a done context.
func TestEndSessionOutlivesTheClient(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.Tokens = ctxTokens{c.Tokens} })
	raw, _, err := e.p.CreateSession(sessionRequest(), "user-1", nil, time.Hour)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, e.p.EndSession(ctx, raw))
	_, err = e.p.ValidateSession(sessionRequest(), raw)
	assert.ErrorIs(t, err, provider.ErrInvalidToken, "the session has ended")
}

// A malformed session token, or a token of another kind, is
// ErrInvalidToken to ExtendSession and EndSession, which look nothing up.
func TestExtendAndEndSessionRefuseAMalformedToken(t *testing.T) {
	e := newEnv(t, nil)
	at := e.issue(t)["access_token"].(string)
	for _, raw := range []string{"", "not-a-token", at} {
		assert.ErrorIs(t, e.p.ExtendSession(context.Background(), raw, e.clock.Now().Add(time.Hour)), provider.ErrInvalidToken, raw)
		assert.ErrorIs(t, e.p.EndSession(context.Background(), raw), provider.ErrInvalidToken, raw)
	}
	_, err := e.validate(at)
	assert.NoError(t, err, "the access token's grant lives on")
}

// downTokens is a token store whose lookups and extensions fail.
type downTokens struct{ storage.TokenStore }

func (downTokens) LookupToken(context.Context, storage.TokenKind, storage.TokenRef) (*storage.TokenInfo, error) {
	return nil, errUserDBDown
}

func (downTokens) ExtendToken(context.Context, storage.TokenRef, time.Time) error {
	return errUserDBDown
}

// A store outage at ExtendSession or EndSession is the store's error, not
// ErrInvalidToken: the caller must not take the session for ended.
func TestExtendAndEndSessionStoreOutage(t *testing.T) {
	e := newEnv(t, nil)
	raw, _, err := e.p.CreateSession(sessionRequest(), "user-1", nil, time.Hour)
	require.NoError(t, err)
	p, err := provider.New(provider.Config{Clients: e.store, Tokens: downTokens{e.store}, Now: e.clock.Now})
	require.NoError(t, err)
	for name, err := range map[string]error{
		"extend": p.ExtendSession(context.Background(), raw, e.clock.Now().Add(time.Hour)),
		"end":    p.EndSession(context.Background(), raw),
	} {
		assert.ErrorIs(t, err, errUserDBDown, name)
		assert.NotErrorIs(t, err, provider.ErrInvalidToken, "%s: an outage is no invalid token", name)
	}
}
