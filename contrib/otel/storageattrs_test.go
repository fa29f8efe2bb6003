package oauthotel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// storageSpans returns the ended storage spans of sr by operation, in
// the order they ended.
func storageSpans(sr interface {
	Ended() []sdktrace.ReadOnlySpan
}) map[string][]sdktrace.ReadOnlySpan {
	out := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range sr.Ended() {
		op := attrOf(s, oauthotel.AttrOperation)
		out[op] = append(out[op], s)
	}
	return out
}

// Each storage call's span is a client span with the attributes its
// operation promises: the client ID (of a client that exists), the token
// kind, and the number of tokens, clients or grants.
func TestStorageSpanAttributes(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store := memory.New(memory.Config{Now: func() time.Time { return now }})
	cs := e.in.ClientStore("memory", store)
	ts := e.in.TokenStore("memory", store)

	require.NoError(t, cs.CreateClient(ctx, &storage.Client{ID: "c1", Public: true, GrantTypes: []string{storage.GrantPassword}}))
	err := cs.CreateClient(ctx, &storage.Client{ID: "c1", Public: true})
	require.ErrorIs(t, err, storage.ErrAlreadyExists)
	got, err := cs.GetClient(ctx, "c1")
	require.NoError(t, err)
	_, err = cs.(storage.ClientViewer).ViewClient(ctx, "c1")
	require.NoError(t, err)
	require.NoError(t, cs.UpdateClient(ctx, got))
	clients, err := cs.ListClients(ctx)
	require.NoError(t, err)
	require.Len(t, clients, 1)

	tok := func(kind storage.TokenKind, s string) storage.Token {
		return storage.Token{Hash: storage.HashToken(s), Kind: kind, GrantID: "g1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	g := &storage.Grant{ID: "g1", ClientID: "c1", UserID: "u1", Scopes: []string{"read"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	require.NoError(t, ts.CreateGrant(ctx, g, tok(storage.KindAccess, "a1"), tok(storage.KindRefresh, "r1")))
	ref := func(s string) storage.TokenRef { return storage.TokenRef{GrantID: "g1", Hash: storage.HashToken(s)} }
	_, err = ts.LookupToken(ctx, storage.KindAccess, ref("a1"))
	require.NoError(t, err)
	var ti storage.TokenInfo
	require.NoError(t, ts.(storage.TokenInfoFiller).LookupTokenInto(ctx, storage.KindAccess, ref("a1"), now, &ti))
	_, err = ts.ExchangeToken(ctx, storage.Exchange{Kind: storage.KindRefresh, Presented: ref("r1"), ClientID: "c1",
		Issue: []storage.Token{tok(storage.KindAccess, "a2"), tok(storage.KindRefresh, "r2"), tok(storage.KindAccess, "a3")}})
	require.NoError(t, err)
	require.NoError(t, ts.ExtendToken(ctx, ref("a2"), now.Add(2*time.Hour)))
	n, err := ts.RevokeClient(ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, ts.CreateGrant(ctx, &storage.Grant{ID: "g2", ClientID: "c1", UserID: "u1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		storage.Token{Hash: storage.HashToken("a4"), Kind: storage.KindAccess, GrantID: "g2", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}))
	n, err = ts.RevokeUser(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, ts.RevokeGrant(ctx, "g2"))
	n, err = e.in.TokenStore("memory", &failingStore{}).(storage.Cleaner).DeleteExpired(ctx, 100)
	require.NoError(t, err)
	require.Equal(t, 3, n)

	type want struct {
		outcome string
		attrs   map[attribute.Key]string
	}
	ok := oauthotel.OutcomeSuccess
	wants := map[string][]want{
		"CreateClient": {
			{ok, map[attribute.Key]string{oauthotel.AttrClientID: "c1"}},
			{oauthotel.OutcomeAlreadyExists, map[attribute.Key]string{oauthotel.AttrClientID: "c1"}},
		},
		"GetClient": {
			{ok, map[attribute.Key]string{oauthotel.AttrClientID: "c1"}}, // GetClient
			{ok, map[attribute.Key]string{oauthotel.AttrClientID: "c1"}}, // ViewClient
		},
		"UpdateClient": {{ok, map[attribute.Key]string{oauthotel.AttrClientID: "c1"}}},
		"ListClients":  {{ok, map[attribute.Key]string{oauthotel.AttrCount: "1"}}},
		"CreateGrant": {
			{ok, map[attribute.Key]string{oauthotel.AttrClientID: "c1", oauthotel.AttrCount: "2"}},
			{ok, map[attribute.Key]string{oauthotel.AttrClientID: "c1", oauthotel.AttrCount: "1"}},
		},
		"LookupToken": {
			{ok, map[attribute.Key]string{oauthotel.AttrTokenKind: "access", oauthotel.AttrClientID: "c1"}}, // LookupToken
			{ok, map[attribute.Key]string{oauthotel.AttrTokenKind: "access", oauthotel.AttrClientID: "c1"}}, // LookupTokenInto
		},
		"ExchangeToken": {{ok, map[attribute.Key]string{oauthotel.AttrTokenKind: "refresh", oauthotel.AttrClientID: "c1", oauthotel.AttrCount: "3"}}},
		"ExtendToken":   {{ok, nil}},
		"RevokeClient":  {{ok, map[attribute.Key]string{oauthotel.AttrClientID: "c1", oauthotel.AttrCount: "1"}}},
		"RevokeUser":    {{ok, map[attribute.Key]string{oauthotel.AttrCount: "1"}}},
		"RevokeGrant":   {{ok, nil}},
		"DeleteExpired": {{ok, map[attribute.Key]string{oauthotel.AttrCount: "3"}}},
	}
	got2 := storageSpans(e.spans)
	for op, ws := range wants {
		spans := got2[op]
		require.Len(t, spans, len(ws), op)
		for i, w := range ws {
			s := spans[i]
			assert.Equal(t, "oauth2.storage "+op, s.Name())
			assert.Equal(t, trace.SpanKindClient, s.SpanKind(), op)
			assert.Equal(t, "memory", attrOf(s, oauthotel.AttrBackend), op)
			assert.Equal(t, w.outcome, attrOf(s, oauthotel.AttrOutcome), op)
			for k, v := range w.attrs {
				assert.Equal(t, v, attrOf(s, k), "%s #%d: %s", op, i, k)
			}
		}
	}
	assert.Zero(t, e.counterValue(t, "oauth2.storage.errors"), "already exists is no backend error")
	assert.EqualValues(t, 1, e.histogramCount(t, "oauth2.storage.duration",
		oauthotel.AttrOperation.String("CreateClient"), oauthotel.AttrOutcome.String(oauthotel.OutcomeAlreadyExists)))
}

// brokenBackend is a client store, token store and batch limiter whose
// backend is down: every call fails.
type brokenBackend struct {
	storage.ClientStore // nil: not called
	storage.TokenStore  // nil: not called
}

var errDown = errors.New("backend down")

func (brokenBackend) ListClients(context.Context) ([]*storage.Client, error) { return nil, errDown }
func (brokenBackend) ExtendToken(context.Context, storage.TokenRef, time.Time) error {
	return errDown
}
func (brokenBackend) RevokeGrant(context.Context, string) error { return errDown }
func (brokenBackend) RevokeUser(context.Context, string) (int, error) {
	return 0, errDown
}
func (brokenBackend) RevokeClient(context.Context, string) (int, error) { return 0, errDown }
func (brokenBackend) DeleteExpired(context.Context, int) (int, error)   { return 0, errDown }
func (brokenBackend) Throttled(context.Context, string, storage.Rate) (time.Duration, error) {
	return 0, errDown
}
func (brokenBackend) Fail(context.Context, string, storage.Rate) (time.Duration, error) {
	return 0, errDown
}
func (brokenBackend) Reserve(context.Context, string, storage.Rate) (time.Duration, error) {
	return 0, errDown
}
func (brokenBackend) Refund(context.Context, string, storage.Rate) error { return errDown }
func (brokenBackend) ReserveAll(context.Context, []storage.LimitKey) (int, time.Duration, error) {
	return 0, 0, errDown // refused is not -1: nothing says what it is on an error
}
func (brokenBackend) RefundAll(context.Context, []storage.LimitKey) error { return errDown }

// A failing backend's error reaches the caller unchanged, and each
// operation's span and oauth2.storage.errors record it.
func TestStorageErrorOfEveryOperation(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	b := brokenBackend{}
	cs := e.in.ClientStore("broken", b)
	ts := e.in.TokenStore("broken", b)
	l := e.in.Limiter("broken", b)
	r := storage.Rate{Burst: 1, Every: time.Minute}
	keys := []storage.LimitKey{{Key: "k", Rate: r}}
	calls := map[string]func() error{
		"ListClients":   func() error { _, err := cs.ListClients(ctx); return err },
		"ExtendToken":   func() error { return ts.ExtendToken(ctx, storage.TokenRef{GrantID: "g"}, time.Now()) },
		"RevokeGrant":   func() error { return ts.RevokeGrant(ctx, "g") },
		"RevokeUser":    func() error { _, err := ts.RevokeUser(ctx, "u"); return err },
		"RevokeClient":  func() error { _, err := ts.RevokeClient(ctx, "c"); return err },
		"DeleteExpired": func() error { _, err := ts.(storage.Cleaner).DeleteExpired(ctx, 1); return err },
		"Throttled":     func() error { _, err := l.Throttled(ctx, "k", r); return err },
		"Fail":          func() error { _, err := l.Fail(ctx, "k", r); return err },
		"Reserve":       func() error { _, err := l.Reserve(ctx, "k", r); return err },
		"Refund":        func() error { return l.Refund(ctx, "k", r) },
		"ReserveAll": func() error {
			_, _, err := l.(storage.BatchLimiter).ReserveAll(ctx, keys)
			return err
		},
		"RefundAll": func() error { return l.(storage.BatchLimiter).RefundAll(ctx, keys) },
	}
	for op, call := range calls {
		require.ErrorIs(t, call(), errDown, op)
	}
	spans := storageSpans(e.spans)
	for op := range calls {
		require.Len(t, spans[op], 1, op)
		assert.Equal(t, oauthotel.OutcomeError, attrOf(spans[op][0], oauthotel.AttrOutcome), op)
		assert.Equal(t, codes.Error, spans[op][0].Status().Code, op)
		assert.EqualValues(t, 1, e.counterValue(t, "oauth2.storage.errors",
			oauthotel.AttrBackend.String("broken"), oauthotel.AttrOperation.String(op)), op)
	}
	for _, op := range []string{"Throttled", "Fail", "Reserve", "ReserveAll"} {
		assert.Equal(t, "false", attrOf(spans[op][0], oauthotel.AttrThrottled), "%s: a failed call throttles nothing", op)
	}
}

// Fail records whether it left its key throttled.
func TestLimiterFailRecordsThrottled(t *testing.T) {
	e := newEnv(t, 0)
	l := e.in.Limiter("memory", memory.NewLimiter(memory.LimiterConfig{}))
	r := storage.Rate{Burst: 2, Every: time.Hour}
	var got []string
	for range 2 {
		_, err := l.Fail(context.Background(), "k", r)
		require.NoError(t, err)
	}
	for _, s := range storageSpans(e.spans)["Fail"] {
		got = append(got, attrOf(s, oauthotel.AttrThrottled))
	}
	assert.Equal(t, []string{"false", "true"}, got)
}

// checkThenFail is a TokenStore whose ExchangeToken runs the caller's
// Check and then fails with its own error, not the Check's.
type checkThenFail struct{ storage.TokenStore }

func (checkThenFail) ExchangeToken(_ context.Context, x storage.Exchange) (*storage.Grant, error) {
	_ = x.Check(&storage.Grant{ID: "g"})
	return nil, errDown
}

// A backend error of an exchange whose Check refused is still a backend
// error: only the Check's own error is check_failed.
func TestExchangeBackendErrorAfterCheckIsAnError(t *testing.T) {
	e := newEnv(t, 0)
	ts := e.in.TokenStore("broken", checkThenFail{})
	_, err := ts.ExchangeToken(context.Background(), storage.Exchange{Kind: storage.KindRefresh,
		Check: func(*storage.Grant) error { return errors.New("wrong user") }})
	require.ErrorIs(t, err, errDown)
	spans := storageSpans(e.spans)["ExchangeToken"]
	require.Len(t, spans, 1)
	assert.Equal(t, oauthotel.OutcomeError, attrOf(spans[0], oauthotel.AttrOutcome))
	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.storage.errors", oauthotel.AttrOperation.String("ExchangeToken")))
}
