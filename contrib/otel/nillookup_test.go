package oauthotel_test

import (
	"context"
	"testing"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nilStore answers every lookup with nothing and no error, as a store
// that breaks its contract may.
type nilStore struct {
	storage.ClientStore
	storage.TokenStore
}

func (nilStore) GetClient(context.Context, string) (*storage.Client, error)  { return nil, nil }
func (nilStore) ViewClient(context.Context, string) (*storage.Client, error) { return nil, nil }
func (nilStore) LookupToken(context.Context, storage.TokenKind, storage.TokenRef) (*storage.TokenInfo, error) {
	return nil, nil
}

// A lookup that found nothing and no error is passed on as it is, with
// no client ID recorded, rather than panicking in the wrapper: the
// provider, not the instrumentation, decides what to make of it.
func TestNilLookupResultIsPassedOn(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	cs := e.in.ClientStore("broken", nilStore{})
	ts := e.in.TokenStore("broken", nilStore{})
	require.NotPanics(t, func() {
		cl, err := cs.GetClient(ctx, "id")
		assert.Nil(t, cl)
		assert.NoError(t, err)
		cl, err = cs.(storage.ClientViewer).ViewClient(ctx, "id")
		assert.Nil(t, cl)
		assert.NoError(t, err)
		ti, err := ts.LookupToken(ctx, storage.KindAccess, storage.TokenRef{})
		assert.Nil(t, ti)
		assert.NoError(t, err)
	})
	spans := storageSpans(e.spans)
	require.Len(t, spans["GetClient"], 2)
	require.Len(t, spans["LookupToken"], 1)
	for _, s := range append(spans["GetClient"], spans["LookupToken"]...) {
		assert.Equal(t, oauthotel.OutcomeSuccess, attrOf(s, oauthotel.AttrOutcome))
		assert.Empty(t, attrOf(s, oauthotel.AttrClientID))
	}
}
