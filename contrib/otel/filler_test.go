package oauthotel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// The memory store is a storage.TokenInfoFiller, the allocation-free
// lookup the provider validates access tokens with. Its wrapper must be
// one too, and still trace the call: a span "oauth2.storage
// LookupToken" (the operation it is to the provider), child of the
// validation span, with the token kind and the client ID.
func TestTokenStoreKeepsFiller(t *testing.T) {
	e := newEnv(t, 0)
	_, ok := e.in.TokenStore("memory", e.store).(storage.TokenInfoFiller)
	require.True(t, ok, "the wrapper of a TokenInfoFiller is a TokenInfoFiller")

	tok := e.passwordGrant(t)
	rec := e.get("/api/me", tok.AccessToken)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	validate := e.spansNamed("oauth2.validate bearer")
	require.Len(t, validate, 1)
	lookups := e.spansNamed("oauth2.storage LookupToken")
	require.Len(t, lookups, 1, "the filled lookup is traced")
	sp := lookups[0]
	assert.Equal(t, validate[0].SpanContext().SpanID(), sp.Parent().SpanID())
	assert.Equal(t, "access", attrOf(sp, oauthotel.AttrTokenKind))
	assert.Equal(t, clientID, attrOf(sp, oauthotel.AttrClientID))
	assert.Equal(t, oauthotel.OutcomeSuccess, attrOf(sp, oauthotel.AttrOutcome))
	assert.EqualValues(t, 1, e.histogramCount(t, "oauth2.storage.duration", oauthotel.AttrBackend.String("memory"),
		oauthotel.AttrOperation.String("LookupToken"), oauthotel.AttrOutcome.String(oauthotel.OutcomeSuccess)))

	// An unknown token is an outcome, not a backend error.
	f := e.in.TokenStore("memory", e.store).(storage.TokenInfoFiller)
	var ti storage.TokenInfo
	err := f.LookupTokenInto(context.Background(), storage.KindAccess, storage.TokenRef{GrantID: "g"}, time.Now(), &ti)
	require.ErrorIs(t, err, storage.ErrNotFound)
	lookups = e.spansNamed("oauth2.storage LookupToken")
	require.Len(t, lookups, 2)
	assert.Equal(t, oauthotel.OutcomeNotFound, attrOf(lookups[1], oauthotel.AttrOutcome))
	assert.Equal(t, "", attrOf(lookups[1], oauthotel.AttrClientID))
	assert.NotEqual(t, codes.Error, lookups[1].Status().Code)
}

// fillingCleaner is a store with both optional capabilities.
type fillingCleaner struct {
	failingStore
	now time.Time // the time LookupTokenInto was given
}

func (f *fillingCleaner) LookupTokenInto(_ context.Context, _ storage.TokenKind, _ storage.TokenRef, now time.Time, _ *storage.TokenInfo) error {
	f.now = now
	return errBackend
}

func TestTokenStoreKeepsFillerAndCleaner(t *testing.T) {
	e := newEnv(t, 0)
	fs := &fillingCleaner{}
	ts := e.in.TokenStore("fake", fs)
	_, isCleaner := ts.(storage.Cleaner)
	assert.True(t, isCleaner, "the wrapper of a Cleaner is a Cleaner")
	f, isFiller := ts.(storage.TokenInfoFiller)
	require.True(t, isFiller, "the wrapper of a TokenInfoFiller is a TokenInfoFiller")

	now := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	err := f.LookupTokenInto(context.Background(), storage.KindAccess, storage.TokenRef{GrantID: "g"}, now, &storage.TokenInfo{})
	assert.ErrorIs(t, err, errBackend, "the error passes unchanged")
	assert.Equal(t, now, fs.now, "the caller's clock reading reaches the store")
	spans := e.spansNamed("oauth2.storage LookupToken")
	require.Len(t, spans, 1)
	assert.Equal(t, codes.Error, spans[0].Status().Code)
	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.storage.errors",
		oauthotel.AttrBackend.String("fake"), oauthotel.AttrOperation.String("LookupToken")))

	// A store with neither capability gets a wrapper with neither.
	plain := e.in.TokenStore("fake", struct{ storage.TokenStore }{})
	_, isCleaner = plain.(storage.Cleaner)
	_, isFiller = plain.(storage.TokenInfoFiller)
	assert.False(t, isCleaner)
	assert.False(t, isFiller)
}

// countingStore is a memory store that counts its LookupToken calls; its
// LookupTokenInto is the memory store's.
type countingStore struct {
	*memory.Store
	lookups int
}

func (s *countingStore) LookupToken(ctx context.Context, kind storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	s.lookups++
	return s.Store.LookupToken(ctx, kind, ref)
}

// Through the wrapper, the provider validates an access token with
// LookupTokenInto, not LookupToken.
func TestValidationThroughWrapperFills(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	in, err := oauthotel.New(oauthotel.Config{TracerProvider: tp})
	require.NoError(t, err)
	store := &countingStore{Store: memory.New(memory.Config{})}
	p := providertest.NewProviderOn(t, store, in.TokenStore("memory", store), nil)
	tok := providertest.PasswordToken(t, p.TokenHandler(), "read")

	var ti storage.TokenInfo
	require.NoError(t, p.ValidateAccessTokenInto(httptest.NewRequest(http.MethodGet, "/", nil), tok, &ti))
	assert.Equal(t, providertest.UserID, ti.Grant.UserID)
	assert.Zero(t, store.lookups, "the provider fell back to LookupToken")
	var lookups int
	for _, s := range sr.Ended() {
		if s.Name() == "oauth2.storage LookupToken" {
			lookups++
		}
	}
	assert.Equal(t, 1, lookups)
}
