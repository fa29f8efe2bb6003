package policy_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/policy"
)

// TestCookieAllocations guards the cost of the Cookie policy's hot path:
// a live session over the memory store allocates what reading the cookie
// (http.Request.Cookie) and looking the session up
// (provider.ValidateSession) allocate, plus the request copy that carries
// the new context and the context node holding the Identity, nothing
// more: telling a planted second cookie apart must cost nothing.
func TestCookieAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	e := newSessEnv(t, sessOpts{})
	cookie := e.login(t, reqOpts{})
	raw := strings.TrimPrefix(cookie, "__Host-session=")
	var id policy.Identity
	h := policy.Cookie(e.s)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ = policy.IdentityFrom(r.Context())
	}))
	r := reqOpts{cookie: cookie}.build(http.MethodGet, "/me", nil)
	w := httptest.NewRecorder()
	got := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) })
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "user-johndoe", id.UserID)

	read := testing.AllocsPerRun(100, func() { _, _ = r.Cookie("__Host-session") })
	validate := testing.AllocsPerRun(100, func() { _, _ = e.p.ValidateSession(r, raw) })
	assert.LessOrEqual(t, got, read+validate+2, "allocations per validated request")
}
