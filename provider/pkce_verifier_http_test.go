package provider_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The token endpoint takes a code_verifier of RFC 7636 §4.1 alone:
// 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
// One outside it is invalid_request before the code is even looked at;
// one inside it gets as far as the (here bogus) code, invalid_grant.
func TestCodeVerifierSyntaxAtTokenEndpoint(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	pad := func(s string) string { return s + strings.Repeat("a", 43-len(s)) }
	valid := []string{
		strings.Repeat("a", 43), strings.Repeat("a", 128),
		pad("AZ"), pad("az"), pad("09"), pad("-._~"),
	}
	// The neighbours of each range of the ABNF, and the base64 and
	// percent-encoding characters a client might wrongly use.
	malformed := []string{
		strings.Repeat("a", 42), strings.Repeat("a", 129),
		pad("/"), pad(":"), pad("@"), pad("["), pad("`"), pad("{"), pad("^"),
		pad("+"), pad("="), pad("%"), pad(" "), pad("!"), pad("\x7f"), pad("\u00e9"),
	}
	for _, v := range valid {
		w := e.do(req{form: exchange("oac_bogus", "code_verifier", v)})
		assertError(t, w, http.StatusBadRequest, "invalid_grant")
		assert.Equal(t, "invalid authorization code", body(t, w)["error_description"], "%q", v)
	}
	for _, v := range malformed {
		w := e.do(req{form: exchange("oac_bogus", "code_verifier", v)})
		assertError(t, w, http.StatusBadRequest, "invalid_request")
		assert.Equal(t, "malformed code_verifier", body(t, w)["error_description"], "%q", v)
	}
}
