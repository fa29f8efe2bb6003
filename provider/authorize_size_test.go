package provider_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/provider"
)

// An authorization request sent as a GET is bounded like one sent as a
// POST (Config.MaxRequestBytes): a state of half a megabyte of characters
// that need escaping, sent by anyone, would otherwise come back several
// times over, percent-encoded twice in the login redirect or HTML-escaped
// in the consent page, held in memory until the client reads it.
func TestAuthorizeRefusesOversizedQuery(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	state := strings.Repeat(`"`, 512<<10)
	for _, user := range []string{"", "alice"} {
		w := e.get(spaParams("state", state), user)
		size := len(w.Header().Get("Location")) + w.Body.Len()
		assert.Less(t, size, 64<<10, "user %q: a %d-byte query answered %d with %d bytes", user, len(state), w.Code, size)
		assert.Equal(t, http.StatusRequestURITooLong, w.Code, "user %q", user)
	}
	// A request of ordinary size still works.
	w := e.get(spaParams("state", strings.Repeat("s", 1024)), "")
	assert.Equal(t, http.StatusFound, w.Code)
}

// Config.MaxRequestBytes is the largest query accepted, not the first
// refused: a query of exactly that size is served, one byte more is 414.
func TestAuthorizeQueryAtMaxRequestBytes(t *testing.T) {
	const limit = 4096
	e := newAuthzEnv(t, func(c *provider.Config) { c.MaxRequestBytes = limit }, nil)
	pad := limit - len(spaParams("state", "s").Encode()) + 1
	at := spaParams("state", strings.Repeat("s", pad)).Encode()
	assert.Len(t, at, limit)
	w := e.authorize(azReq{query: at})
	assert.Equal(t, http.StatusFound, w.Code, "a %d-byte query: %s", len(at), w.Body.String())
	assert.True(t, strings.HasPrefix(w.Header().Get("Location"), "/login?"), w.Header().Get("Location"))

	w = e.authorize(azReq{query: spaParams("state", strings.Repeat("s", pad+1)).Encode()})
	assert.Equal(t, http.StatusRequestURITooLong, w.Code)
}
