package oauthotel_test

import (
	"context"
	"testing"
	"time"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
)

// panickingBackend is a client store, token store and limiter, with
// every optional capability, whose every call panics, as a driver with
// a bug does.
type panickingBackend struct{}

const backendBug = "driver bug"

func (panickingBackend) GetClient(context.Context, string) (*storage.Client, error) {
	panic(backendBug)
}
func (panickingBackend) ViewClient(context.Context, string) (*storage.Client, error) {
	panic(backendBug)
}
func (panickingBackend) CreateClient(context.Context, *storage.Client) error    { panic(backendBug) }
func (panickingBackend) UpdateClient(context.Context, *storage.Client) error    { panic(backendBug) }
func (panickingBackend) ListClients(context.Context) ([]*storage.Client, error) { panic(backendBug) }
func (panickingBackend) CreateGrant(context.Context, *storage.Grant, ...storage.Token) error {
	panic(backendBug)
}
func (panickingBackend) LookupToken(context.Context, storage.TokenKind, storage.TokenRef) (*storage.TokenInfo, error) {
	panic(backendBug)
}
func (panickingBackend) LookupTokenInto(context.Context, storage.TokenKind, storage.TokenRef, time.Time, *storage.TokenInfo) error {
	panic(backendBug)
}
func (panickingBackend) ExchangeToken(context.Context, storage.Exchange) (*storage.Grant, error) {
	panic(backendBug)
}
func (panickingBackend) ExtendToken(context.Context, storage.TokenRef, time.Time) error {
	panic(backendBug)
}
func (panickingBackend) RevokeGrant(context.Context, string) error         { panic(backendBug) }
func (panickingBackend) RevokeUser(context.Context, string) (int, error)   { panic(backendBug) }
func (panickingBackend) RevokeClient(context.Context, string) (int, error) { panic(backendBug) }
func (panickingBackend) DeleteExpired(context.Context, int) (int, error)   { panic(backendBug) }
func (panickingBackend) Throttled(context.Context, string, storage.Rate) (time.Duration, error) {
	panic(backendBug)
}
func (panickingBackend) Fail(context.Context, string, storage.Rate) (time.Duration, error) {
	panic(backendBug)
}
func (panickingBackend) Reserve(context.Context, string, storage.Rate) (time.Duration, error) {
	panic(backendBug)
}
func (panickingBackend) Refund(context.Context, string, storage.Rate) error { panic(backendBug) }
func (panickingBackend) ReserveAll(context.Context, []storage.LimitKey) (int, time.Duration, error) {
	panic(backendBug)
}
func (panickingBackend) RefundAll(context.Context, []storage.LimitKey) error { panic(backendBug) }

// A store or limiter call that panics (a driver bug; net/http recovers
// the panic and serves on) is a failed call: its span ends with the
// status Error and the outcome error, and it counts in
// oauth2.storage.errors and oauth2.storage.duration, as a call that
// returned an error does. The panic goes on, unchanged.
func TestStoragePanicIsAnError(t *testing.T) {
	ctx := context.Background()
	var b panickingBackend
	calls := map[string]func(in *oauthotel.Instrumentation){
		"GetClient": func(in *oauthotel.Instrumentation) { _, _ = in.ClientStore("fake", b).GetClient(ctx, "c") },
		"CreateClient": func(in *oauthotel.Instrumentation) {
			_ = in.ClientStore("fake", b).CreateClient(ctx, &storage.Client{ID: "c"})
		},
		"UpdateClient": func(in *oauthotel.Instrumentation) {
			_ = in.ClientStore("fake", b).UpdateClient(ctx, &storage.Client{ID: "c"})
		},
		"ListClients": func(in *oauthotel.Instrumentation) { _, _ = in.ClientStore("fake", b).ListClients(ctx) },
		"CreateGrant": func(in *oauthotel.Instrumentation) {
			_ = in.TokenStore("fake", b).CreateGrant(ctx, &storage.Grant{ID: "g"})
		},
		"LookupToken": func(in *oauthotel.Instrumentation) {
			_, _ = in.TokenStore("fake", b).LookupToken(ctx, storage.KindAccess, storage.TokenRef{})
		},
		"ExchangeToken": func(in *oauthotel.Instrumentation) {
			_, _ = in.TokenStore("fake", b).ExchangeToken(ctx, storage.Exchange{Kind: storage.KindRefresh})
		},
		"ExtendToken": func(in *oauthotel.Instrumentation) {
			_ = in.TokenStore("fake", b).ExtendToken(ctx, storage.TokenRef{}, time.Now())
		},
		"RevokeGrant":  func(in *oauthotel.Instrumentation) { _ = in.TokenStore("fake", b).RevokeGrant(ctx, "g") },
		"RevokeUser":   func(in *oauthotel.Instrumentation) { _, _ = in.TokenStore("fake", b).RevokeUser(ctx, "u") },
		"RevokeClient": func(in *oauthotel.Instrumentation) { _, _ = in.TokenStore("fake", b).RevokeClient(ctx, "c") },
		"DeleteExpired": func(in *oauthotel.Instrumentation) {
			_, _ = in.TokenStore("fake", b).(storage.Cleaner).DeleteExpired(ctx, 10)
		},
		"Throttled": func(in *oauthotel.Instrumentation) { _, _ = in.Limiter("fake", b).Throttled(ctx, "k", storage.Rate{}) },
		"Fail":      func(in *oauthotel.Instrumentation) { _, _ = in.Limiter("fake", b).Fail(ctx, "k", storage.Rate{}) },
		"Reserve":   func(in *oauthotel.Instrumentation) { _, _ = in.Limiter("fake", b).Reserve(ctx, "k", storage.Rate{}) },
		"Refund":    func(in *oauthotel.Instrumentation) { _ = in.Limiter("fake", b).Refund(ctx, "k", storage.Rate{}) },
		"ReserveAll": func(in *oauthotel.Instrumentation) {
			_, _, _ = in.Limiter("fake", b).(storage.BatchLimiter).ReserveAll(ctx, []storage.LimitKey{{Key: "k"}})
		},
		"RefundAll": func(in *oauthotel.Instrumentation) {
			_ = in.Limiter("fake", b).(storage.BatchLimiter).RefundAll(ctx, []storage.LimitKey{{Key: "k"}})
		},
	}
	// ViewClient and LookupTokenInto are observed as the operations
	// they are to the provider.
	viewed := map[string]func(in *oauthotel.Instrumentation){
		"GetClient": func(in *oauthotel.Instrumentation) {
			_, _ = in.ClientStore("fake", b).(storage.ClientViewer).ViewClient(ctx, "c")
		},
		"LookupToken": func(in *oauthotel.Instrumentation) {
			var ti storage.TokenInfo
			_ = in.TokenStore("fake", b).(storage.TokenInfoFiller).LookupTokenInto(ctx, storage.KindAccess, storage.TokenRef{}, time.Now(), &ti)
		},
	}
	check := func(t *testing.T, op string, call func(in *oauthotel.Instrumentation)) {
		e := newEnv(t, 0)
		assert.PanicsWithValue(t, backendBug, func() { call(e.in) }, "the panic goes on")
		spans := e.spansNamed("oauth2.storage " + op)
		require.Len(t, spans, 1, "the call's span ended")
		assert.Equal(t, codes.Error, spans[0].Status().Code)
		assert.Equal(t, oauthotel.OutcomeError, attrOf(spans[0], oauthotel.AttrOutcome))
		assert.EqualValues(t, 1, e.counterValue(t, "oauth2.storage.errors",
			oauthotel.AttrBackend.String("fake"), oauthotel.AttrOperation.String(op)))
		assert.EqualValues(t, 1, e.histogramCount(t, "oauth2.storage.duration", oauthotel.AttrBackend.String("fake"),
			oauthotel.AttrOperation.String(op), oauthotel.AttrOutcome.String(oauthotel.OutcomeError)))
	}
	for op, call := range calls {
		t.Run(op, func(t *testing.T) { check(t, op, call) })
	}
	for op, call := range viewed {
		t.Run("via "+op, func(t *testing.T) { check(t, op, call) })
	}
}
