package memory

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// A token extended past its grant's expiry by as little as the store
// keeps (a nanosecond) takes the grant with it: were the grant to end
// first, the token would be refused while it is still live.
func TestExtendByANanosecondPastTheGrantMovesTheGrant(t *testing.T) {
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	_, access, _ := issue(t, s, clk.Now(), "c", "u", time.Hour)
	end := clk.Now().Add(time.Hour).UTC()
	require.NoError(t, s.ExtendToken(t.Context(), access, end.Add(time.Nanosecond)))

	ti, err := s.LookupToken(t.Context(), storage.KindAccess, access)
	require.NoError(t, err)
	require.Equal(t, end.Add(time.Nanosecond), ti.Grant.ExpiresAt)
	clk.Advance(time.Hour)
	ti, err = s.LookupToken(t.Context(), storage.KindAccess, access)
	require.NoError(t, err, "the token lives one nanosecond past the grant's old expiry")
	require.Equal(t, end.Add(time.Nanosecond), ti.Token.ExpiresAt)
}
