package provider_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The remote stores' one-round-trip figures (redis TestRoundTrips,
// postgres TestLookupToken_IsOneStatement and
// TestExchangeToken_WithoutCheckIsOneStatement) are per store call; they
// hold for the endpoints only if the provider makes one token store call
// per validation and per plain refresh, and leaves the exchange's Check
// out when there is nothing to check.
func TestHotPathsAreOneTokenStoreCall(t *testing.T) {
	e := newEnv(t, nil)
	m := e.issue(t, "scope", "read write")

	e.store.calls.Store(0)
	_, err := e.validate(m["access_token"].(string))
	require.NoError(t, err)
	assert.EqualValues(t, 1, e.store.calls.Load(), "token store calls per validation")

	e.store.calls.Store(0)
	e.store.views.Store(0)
	m = assertToken(t, e.do(req{form: refresh(m["refresh_token"].(string)), basic: conf}))
	assert.EqualValues(t, 1, e.store.calls.Load(), "token store calls per plain refresh")
	assert.Zero(t, e.store.checked.Load(), "a plain refresh exchanges without a Check")
	assert.EqualValues(t, 1, e.store.views.Load(), "one client read per refresh")

	// A narrowed scope is checked with the exchange: the count above
	// would see a Check.
	e.store.calls.Store(0)
	e.store.checked.Store(0)
	assertToken(t, e.do(req{form: refresh(m["refresh_token"].(string), "scope", "read"), basic: conf}))
	assert.EqualValues(t, 1, e.store.calls.Load(), "token store calls per narrowing refresh")
	assert.EqualValues(t, 1, e.store.checked.Load(), "a narrowing refresh exchanges with a Check")
}
