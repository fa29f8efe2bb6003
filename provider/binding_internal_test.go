package provider

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// A fingerprint of an outsized User-Agent does not leave its buffer in
// the pool: the buffer that goes back is at most maxFingerprintBuf long,
// as is every one the pool hands out.
func TestFingerprintDropsAnOutsizedBuffer(t *testing.T) {
	st := memory.New(memory.Config{})
	p, err := New(Config{Clients: st, Tokens: st, BindingKey: []byte(strings.Repeat("k", MinBindingKeyLen))})
	require.NoError(t, err)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("User-Agent", strings.Repeat("u", 64<<10))
	seen := 0
	for range 20 { // the pool may drop what is put (at random under -race)
		require.NotEmpty(t, p.Fingerprint(r))
		if m, _ := p.macs.Get().(*fingerprintMAC); m != nil {
			seen++
			assert.LessOrEqual(t, cap(m.buf), maxFingerprintBuf)
		}
	}
	if seen == 0 {
		t.Skip("the pool kept nothing")
	}
}
