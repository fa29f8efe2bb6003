package provider_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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
