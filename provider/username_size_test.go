package provider_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
)

// A username of 64 KiB of U+FDFA (a ligature that compatibility
// decomposition makes 18 runes), sent raw in the body, was folded for its
// throttling key before the limiter was asked, so even a throttled
// attacker made every request build about 720 KB of folded text through
// seven Unicode transforms (a tenth of a second of CPU, more than the
// argon2id check the throttle spares). Such a username is no user's: it
// is refused as a wrong password without the fold or the user database,
// while a long but plausible one still reaches the checker.
func TestOversizedUsernameIsNotFolded(t *testing.T) {
	var asked atomic.Int64
	e := newEnv(t, func(c *provider.Config) {
		c.Users = authcheck.Func(func(context.Context, string, string) (string, error) {
			asked.Add(1)
			return "", authcheck.ErrInvalidCredentials
		})
	})
	post := func(username string) (*httptest.ResponseRecorder, uint64) {
		// Raw UTF-8 in the body, as a form parser takes it: no escaping.
		body := "grant_type=password&client_id=pub&password=x&username=" + username
		r := httptest.NewRequest(http.MethodPost, "https://auth.example/oauth2/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.TLS = &tls.ConnectionState{}
		w := httptest.NewRecorder()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		e.h.ServeHTTP(w, r)
		runtime.ReadMemStats(&after)
		return w, after.TotalAlloc - before.TotalAlloc
	}

	huge := strings.Repeat("\ufdfa", 60<<10/len("\ufdfa"))
	w, alloc := post(huge)
	assert.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"invalid_grant"`)
	assert.Less(t, alloc, uint64(512<<10), "a request of %d bytes allocated %d", len(huge), alloc)
	assert.Zero(t, asked.Load(), "an oversized username reached the user database")

	// An email address of the longest kind is still a username.
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 189) + ".example"
	w, _ = post(long)
	assert.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
	assert.Equal(t, int64(1), asked.Load(), "a plausible username must reach the checker")
}

// TestUsernameOfMaxUsernameBytesIsChecked: MaxUsernameBytes is the
// longest username judged, so a username of exactly that length reaches
// the checker (and signs in), and one byte more does not.
func TestUsernameOfMaxUsernameBytesIsChecked(t *testing.T) {
	require.Equal(t, 1<<10, provider.MaxUsernameBytes, "1 KiB, as its doc and docs/user-database.md say")
	longest := strings.Repeat("a", provider.MaxUsernameBytes)
	var asked atomic.Int64
	e := newEnv(t, func(c *provider.Config) {
		c.Users = authcheck.Func(func(_ context.Context, username, password string) (string, error) {
			asked.Add(1)
			if strings.HasPrefix(username, longest) && password == "pw" {
				return "user-long", nil
			}
			return "", authcheck.ErrInvalidCredentials
		})
	})
	m := assertToken(t, e.do(req{form: password("username", longest, "password", "pw"), basic: conf}))
	assert.Equal(t, "user-long", m["user_id"])
	assert.Equal(t, int64(1), asked.Load())

	assertError(t, e.do(req{form: password("username", longest+"a", "password", "pw"), basic: conf}), 400, "invalid_grant")
	assert.Equal(t, int64(1), asked.Load(), "a username over MaxUsernameBytes reached the checker")
}

// TestOversizedUsernameIsReported: a username over MaxUsernameBytes is
// refused without the checker or the limiter, but still reported as a
// failed user authentication, so that an operator sees the attempt.
func TestOversizedUsernameIsReported(t *testing.T) {
	events := &eventLog{}
	e := newEnv(t, func(c *provider.Config) { c.Events = events.hook })
	huge := strings.Repeat("a", provider.MaxUsernameBytes+1)
	assertError(t, e.do(req{form: password("username", huge), basic: conf}), 400, "invalid_grant")
	assert.Equal(t, []provider.Event{{Type: provider.EventUserAuthFailed, Time: e.clock.Now(), ClientID: "conf",
		IP: netip.MustParseAddr("192.0.2.1"), Reason: "username too long"}}, events.take())
}
