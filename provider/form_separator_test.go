package provider_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A ';' anywhere in the body makes it malformed, as net/url.ParseQuery
// has it since Go 1.17 (a ';' separator reads differently to different
// parsers): also one that starts a pair, and one in an unknown
// parameter. A body both malformed and with a repeated parameter is
// reported as malformed.
func TestFormBodySemicolonIsMalformed(t *testing.T) {
	const malformed = "malformed application/x-www-form-urlencoded body"
	ok := password().Encode()
	for _, raw := range []string{
		ok + "&;x=1",
		ok + "&;",
		";&" + ok,
		ok + "&x=1;y=2",
		ok + "&x=a;",
		ok + "&;=1",
		ok + "&username=mallory&;", // repeated and malformed: malformed
		ok + "&username=johndoe&x=%zz",
	} {
		w := newEnv(t, nil).do(req{rawBody: raw, basic: conf})
		assertError(t, w, http.StatusBadRequest, "invalid_request")
		assert.Equal(t, malformed, body(t, w)["error_description"], "%q", raw)
	}
	w := newEnv(t, nil).do(req{rawBody: ok + "&username=mallory", basic: conf})
	assertError(t, w, http.StatusBadRequest, "invalid_request")
	assert.Equal(t, "parameter username repeated", body(t, w)["error_description"])
}

// A bad percent-escape in a parameter's name makes the body malformed,
// as one in a value does (net/url.ParseQuery): the pair is not silently
// dropped as an unknown parameter.
func TestFormBodyMalformedNameIsMalformed(t *testing.T) {
	ok := password().Encode()
	for _, raw := range []string{ok + "&%zz=1", ok + "&x%=1", "%4=" + "&" + ok, ok + "&user%GGname"} {
		w := newEnv(t, nil).do(req{rawBody: raw, basic: conf})
		assertError(t, w, http.StatusBadRequest, "invalid_request")
		assert.Equal(t, "malformed application/x-www-form-urlencoded body", body(t, w)["error_description"], "%q", raw)
	}
}
