package provider_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// A disabled client that sends its right secret, one a person chose, is
// answered as a wrong guess is, the throttle included: 401 invalid_client
// up to ClientRate.Burst, then 429 (see
// TestThrottleDisabledClientRightSecretIsNoOracle). Enabled again, it
// authenticates at once from another address, and from its own once the
// wait it ran up is over.
func TestThrottleCountsTheRightSecretOfADisabledClientAsAGuess(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	setDisabled := func(disabled bool) {
		c, err := e.store.GetClient(ctx, "human")
		require.NoError(t, err)
		c.Disabled = disabled
		require.NoError(t, e.store.UpdateClient(ctx, c))
	}
	setDisabled(true)
	for range provider.DefaultClientRate.Burst {
		w := e.do(req{form: password(), basic: human})
		assertError(t, w, 401, "invalid_client")
		assert.Equal(t, `{"error":"invalid_client","error_description":"client authentication failed"}`+"\n", w.Body.String())
		assert.Equal(t, `Basic realm="test-realm"`, w.Header().Get("WWW-Authenticate"))
		assert.Empty(t, w.Header().Get("Retry-After"))
	}
	assertThrottled(t, e.do(req{form: password(), basic: human}), "60")
	setDisabled(false)
	assertToken(t, e.do(req{form: password(), basic: human, remoteAddr: "198.51.100.7:4000"}))
	assertThrottled(t, e.do(req{form: password(), basic: human}), "60")
	e.clock.Advance(time.Minute)
	assertToken(t, e.do(req{form: password(), basic: human}))
}

// A disabled client whose secret a person chose answers its right secret
// as it answers a wrong one, the throttle included: both are counted. The
// right one used to be refunded, so whoever guessed at the secret of a
// disabled client (one oauth2ctl may enable again) learnt which guess
// was right from the next answer: 401 after the right guess, 429 after a
// wrong one, at the budget's last slot.
func TestThrottleDisabledClientRightSecretIsNoOracle(t *testing.T) {
	answers := func(guess string) []string {
		e := newEnv(t, func(c *provider.Config) { c.ClientRate = storage.Rate{Burst: 2, Every: time.Minute} })
		require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{ID: "human-disabled",
			SecretHash: humanHash, GrantTypes: []string{storage.GrantPassword}, Disabled: true}))
		var out []string
		for _, secret := range []string{"wrong", guess, "wrong"} {
			w := e.do(req{form: password(), basic: []string{"human-disabled", secret}})
			out = append(out, w.Result().Status+" Retry-After="+w.Header().Get("Retry-After")+
				" WWW-Authenticate="+w.Header().Get("WWW-Authenticate")+" "+w.Body.String())
		}
		return out
	}
	wrong := answers("also wrong")
	assert.Equal(t, "429 Too Many Requests Retry-After=60 WWW-Authenticate= "+throttledBody, wrong[2])
	assert.Equal(t, wrong, answers(humanSecret), "the right secret of a disabled client against a wrong one")
}
