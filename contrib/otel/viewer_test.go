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
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
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

// plainClients hides the ClientViewer of the store it holds, as a
// Postgres or Redis client store has none.
type plainClients struct{ storage.ClientStore }

// GetClient of a store without ClientViewer records the client ID only
// for a client that exists: the ID it was asked for comes from the
// request, where it may be a misplaced secret.
func TestGetClientRecordsOnlyExistingClientID(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	in, err := oauthotel.New(oauthotel.Config{TracerProvider: tp})
	require.NoError(t, err)
	store := memory.New(memory.Config{})
	providertest.AddFixtures(t, store)
	cs := in.ClientStore("postgres", plainClients{store})
	_, isViewer := cs.(storage.ClientViewer)
	require.False(t, isViewer)

	_, err = cs.GetClient(context.Background(), "misplaced-secret")
	require.ErrorIs(t, err, storage.ErrNotFound)
	_, err = cs.GetClient(context.Background(), clientID)
	require.NoError(t, err)

	ended := spans.Ended()
	require.Len(t, ended, 2)
	assert.Empty(t, attrOf(ended[0], oauthotel.AttrClientID), "an unknown client's ID")
	assert.Equal(t, oauthotel.OutcomeNotFound, attrOf(ended[0], oauthotel.AttrOutcome))
	assert.Equal(t, clientID, attrOf(ended[1], oauthotel.AttrClientID))
}
