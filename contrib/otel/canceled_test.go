package oauthotel_test

import (
	"context"
	"fmt"
	"testing"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
)

// canceledStore answers as a networked store does when the request's
// context ends mid-call (the client went away).
type canceledStore struct {
	storage.TokenStore // nil: other methods are not called
}

func (canceledStore) LookupToken(ctx context.Context, _ storage.TokenKind, _ storage.TokenRef) (*storage.TokenInfo, error) {
	return nil, fmt.Errorf("postgres: lookup token: %w", ctx.Err())
}

// A call cut short because its caller's context was cancelled is no
// failure of the backend: it is the outcome "canceled", its span is no
// error and oauth2.storage.errors does not count it. A deadline that
// ran out is a backend too slow: still an error.
func TestCanceledCallIsNoBackendError(t *testing.T) {
	e := newEnv(t, 0)
	ts := e.in.TokenStore("fake", canceledStore{})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ts.LookupToken(ctx, storage.KindAccess, storage.TokenRef{GrantID: "g"})
	require.ErrorIs(t, err, context.Canceled)
	spans := e.spansNamed("oauth2.storage LookupToken")
	require.Len(t, spans, 1)
	assert.Equal(t, oauthotel.OutcomeCanceled, attrOf(spans[0], oauthotel.AttrOutcome))
	assert.NotEqual(t, codes.Error, spans[0].Status().Code)
	assert.Zero(t, e.counterValue(t, "oauth2.storage.errors", oauthotel.AttrBackend.String("fake")))
	assert.EqualValues(t, 1, e.histogramCount(t, "oauth2.storage.duration", oauthotel.AttrBackend.String("fake"),
		oauthotel.AttrOutcome.String(oauthotel.OutcomeCanceled)))

	ctx, cancel = context.WithTimeout(context.Background(), 0)
	defer cancel()
	_, err = ts.LookupToken(ctx, storage.KindAccess, storage.TokenRef{GrantID: "g"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	spans = e.spansNamed("oauth2.storage LookupToken")
	require.Len(t, spans, 2)
	assert.Equal(t, oauthotel.OutcomeError, attrOf(spans[1], oauthotel.AttrOutcome))
	assert.Equal(t, codes.Error, spans[1].Status().Code)
	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.storage.errors", oauthotel.AttrBackend.String("fake")))
}
