package storage

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Exchange.Grace is the one place the stores learn which exchanges have
// a reuse grace: a refresh token's positive ReuseGrace, nothing else.
func TestExchangeGrace(t *testing.T) {
	for _, tc := range []struct {
		kind  TokenKind
		grace time.Duration
		want  time.Duration
	}{
		{KindRefresh, 30 * time.Second, 30 * time.Second},
		{KindRefresh, 0, 0},
		{KindRefresh, -time.Second, 0},
		{KindCode, 30 * time.Second, 0},
		{KindAccess, 30 * time.Second, 0},
	} {
		x := Exchange{Kind: tc.kind, ReuseGrace: tc.grace}
		assert.Equal(t, tc.want, x.Grace(), "%v with %v", tc.kind, tc.grace)
	}
}
