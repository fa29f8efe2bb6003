package oauthotel_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Wrapping an in-process store must not change what the provider does
// with it: a memory store is a storage.ClientViewer, which the provider
// never caches (Config.ClientCacheTTL), so a secret rotated in the store
// stops working at once. A wrapper that hides ViewClient turns the cache
// on and lets the old secret keep refreshing.
func TestClientStoreKeepsViewer(t *testing.T) {
	in, err := oauthotel.New(oauthotel.Config{})
	require.NoError(t, err)
	store := memory.New(memory.Config{})
	_, isViewer := in.ClientStore("memory", store).(storage.ClientViewer)
	assert.True(t, isViewer, "the wrapper of a ClientViewer is a ClientViewer")

	p := providertest.NewProviderOn(t, in.ClientStore("memory", store), in.TokenStore("memory", store), func(c *provider.Config) {
		c.ClientCacheTTL = time.Hour
	})
	h := p.TokenHandler()
	tok := providertest.Grant(t, h, providertest.RefreshGrant(providertest.Grant(t, h, providertest.PasswordGrant("read")).RefreshToken))

	// Rotate the secret in the store.
	_, hash, err := storage.NewClientSecret()
	require.NoError(t, err)
	c, err := store.GetClient(context.Background(), providertest.ClientID)
	require.NoError(t, err)
	c.SecretHash = hash
	require.NoError(t, store.UpdateClient(context.Background(), c))

	rec := providertest.Post(h, provider.DefaultTokenPath, providertest.RefreshGrant(tok.RefreshToken))
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "the old secret still refreshes: %s", rec.Body.String())
}
