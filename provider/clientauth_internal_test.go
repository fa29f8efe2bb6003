package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// An unknown client, and a public one that sent a secret, cost what a
// wrong secret of a client with a generated secret costs (the timing
// row of docs/security.md): its secret is checked, once, against
// dummySecretHash, a generated secret's stored form that decodes, so
// that the check hashes the secret and compares as a real one does
// rather than stopping at an unreadable form, or not running at all.
func TestUnknownClientCostsAGeneratedSecretsCheck(t *testing.T) {
	require.True(t, storage.IsGeneratedSecretHash(dummySecretHash), "a generated secret's form: %q", dummySecretHash)
	require.NoError(t, (&storage.Client{ID: "dummy", SecretHash: dummySecretHash}).Validate(),
		"a form VerifySecret reads to its end")

	st := memory.New(memory.Config{})
	ctx := context.Background()
	require.NoError(t, st.CreateClient(ctx, &storage.Client{ID: "pub", Public: true, GrantTypes: []string{"password"}}))
	p, err := New(Config{Clients: st, Tokens: st})
	require.NoError(t, err)

	type call struct{ stored, secret string }
	var calls []call
	orig := verifyDummySecret
	t.Cleanup(func() { verifyDummySecret = orig })
	verifyDummySecret = func(stored, secret string) bool {
		calls = append(calls, call{stored, secret})
		return orig(stored, secret)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	for _, id := range []string{"nobody", "pub"} {
		calls = nil
		_, e := p.judgeClient(ctx, id, "guess", authMethodPost, false, ip)
		require.NotNil(t, e, id)
		assert.Equal(t, CodeInvalidClient, e.Code, id)
		assert.Equal(t, []call{{dummySecretHash, "guess"}}, calls, id)
	}
}

// wrappingClients is a ClientStore, as postgres' is, whose ErrNotFound
// comes wrapped in a message of its own.
type wrappingClients struct{ storage.ClientStore }

func (w wrappingClients) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	c, err := w.ClientStore.GetClient(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("wrapping: get client: %w", err)
	}
	return c, nil
}

// An unknown client is invalid_client (401) when the store wraps its
// storage.ErrNotFound, as the sentinels' doc allows and the postgres
// store does, not an outage (503).
func TestUnknownClientOfAStoreThatWrapsErrNotFound(t *testing.T) {
	st := memory.New(memory.Config{})
	p, err := New(Config{Clients: wrappingClients{st}, Tokens: st})
	require.NoError(t, err)
	_, e := p.judgeClient(context.Background(), "nobody", "guess", authMethodPost, false, netip.MustParseAddr("192.0.2.1"))
	require.NotNil(t, e)
	assert.Equal(t, CodeInvalidClient, e.Code)
	assert.Equal(t, http.StatusUnauthorized, e.Status)
}
