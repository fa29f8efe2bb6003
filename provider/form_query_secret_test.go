package provider_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every credential parameter is refused in the URL query of the token
// endpoint (RFC 6749 §2.3.1, §3.2), where it would end up in logs and
// browser history: not only secrets and passwords but the username, a
// code and its code_verifier too.
func TestTokenEndpointRefusesEachCredentialInQuery(t *testing.T) {
	e := newEnv(t, nil)
	for _, name := range []string{
		"client_id", "client_secret", "username", "password", "refresh_token", "token", "code", "code_verifier",
	} {
		w := e.do(req{form: password(), basic: conf, query: name + "=x"})
		assertError(t, w, http.StatusBadRequest, "invalid_request")
		assert.Equal(t, "credentials must be sent in the request body, not in the URL", body(t, w)["error_description"], name)
	}
	assertToken(t, e.do(req{form: password(), basic: conf, query: "state=x&scope=read&grant_type=password"}))
}
