package main

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An authorization response whose iss is not the issuer the request was
// sent to is refused, and its code never exchanged (RFC 9207 §2.4): it
// is the mark of a mix-up attack, where another authorization server's
// answer (or an attacker holding our state) reaches our redirect URI.
func TestRunRefusesResponseFromAnotherIssuer(t *testing.T) {
	assertRefusesIss(t, func(q url.Values) { q.Set("iss", "https://attacker.example") })
}

// The issuer's own iss, with or without a trailing slash on -issuer, is
// accepted.
func TestRunAcceptsItsIssuer(t *testing.T) {
	srv := newServer(t)
	for _, issuer := range []string{srv.URL, srv.URL + "/"} {
		_, out, err := runFlow(t, issuer, signedInBrowser)
		require.NoError(t, err, out)
	}
}

// A mix-up attacker controls the response it sends to our redirect URI,
// so it would simply leave iss out: a client that knows its provider
// sends iss (its metadata says authorization_response_iss_parameter_
// supported) must refuse a response without it (RFC 9207 §2.4).
func TestRunRefusesResponseWithoutIss(t *testing.T) {
	assertRefusesIss(t, func(q url.Values) { q.Del("iss") })
}

// assertRefusesIss runs the flow with the authorization response's query
// changed by rewrite, and checks that the run fails on iss without
// exchanging the code.
func assertRefusesIss(t *testing.T, rewrite func(url.Values)) {
	t.Helper()
	srv := newServer(t)
	browse := func(u string) error {
		return signedInBrowserRewriting(u, func(loc *url.URL) {
			q := loc.Query()
			require.NotEmpty(t, q.Get("iss"), "the provider sends iss")
			rewrite(q)
			loc.RawQuery = q.Encode()
		})
	}
	tok, out, err := runFlow(t, srv.URL, browse)
	require.Error(t, err, out)
	assert.Contains(t, err.Error(), "iss")
	assert.Nil(t, tok)
	assert.NotContains(t, out, "got a", "the code is not exchanged")
}
