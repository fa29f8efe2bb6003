package storagetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// atRestClauses check that a store keeps no usable token.
var atRestClauses = []clause{
	{"NoRawTokenStored", testNoRawToken},
}

// randomPart returns the part of a token string that is secret: the
// characters after the prefix and the grant ID, before the checksum.
func randomPart(raw string) string {
	const prefixAndGrant = 4 + 22
	const sum = 6
	return raw[prefixAndGrant : token.Len-sum]
}

func testNoRawToken(t *testing.T, e *env) {
	if e.b.Dump == nil {
		t.Skip("the backend has no Dump; cannot check what it keeps")
	}
	now := e.clk.Now()
	f := e.newGrant(t, "client-a", "user-1")
	session := mint(t, now, storage.KindSession, f.g.ID, time.Hour)
	code := mint(t, now, storage.KindCode, f.g.ID, codeTTL)
	e.store(t, f.g, f.access, f.refresh, session, code)
	a2, r2 := e.nextPair(t, f.g.ID)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(f.refresh, "client-a", a2, r2))
	require.NoError(t, err)

	dump, err := e.b.Dump(e.ctx)
	require.NoError(t, err)
	require.True(t, bytes.Contains(dump, []byte(f.g.ID)), "the dump holds the stored grant (else this check proves nothing)")
	for _, m := range []minted{f.access, f.refresh, session, code, a2, r2} {
		assert.False(t, bytes.Contains(dump, []byte(m.raw)), "the dump holds a raw %v token", m.tok.Kind)
		assert.False(t, bytes.Contains(dump, []byte(randomPart(m.raw))), "the dump holds the secret part of a %v token", m.tok.Kind)
	}
}
