package provider_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
)

// A disabled client that sends its right secret, one a person chose,
// guessed nothing: it is refused with 401 invalid_client every time, never
// throttled with 429, and once enabled again it authenticates at once,
// with no budget spent while it was disabled.
func TestThrottleDoesNotCountTheRightSecretOfADisabledClient(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	setDisabled := func(disabled bool) {
		c, err := e.store.GetClient(ctx, "human")
		require.NoError(t, err)
		c.Disabled = disabled
		require.NoError(t, e.store.UpdateClient(ctx, c))
	}
	setDisabled(true)
	for range provider.DefaultClientRate.Burst + 1 {
		w := e.do(req{form: password(), basic: human})
		assertError(t, w, 401, "invalid_client")
		assert.Equal(t, `{"error":"invalid_client","error_description":"client authentication failed"}`+"\n", w.Body.String())
		assert.Equal(t, `Basic realm="test-realm"`, w.Header().Get("WWW-Authenticate"))
		assert.Empty(t, w.Header().Get("Retry-After"))
	}
	setDisabled(false)
	assertToken(t, e.do(req{form: password(), basic: human}))
}
