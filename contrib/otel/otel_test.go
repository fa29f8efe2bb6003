package oauthotel_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestTokenIssued(t *testing.T) {
	e := newEnv(t, 0)
	e.passwordGrant(t)

	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.tokens.issued", oauthotel.AttrGrantType.String("password")))
	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.security_events", oauthotel.AttrEvent.String(string(provider.EventTokenIssued))))
	assert.EqualValues(t, 1, e.histogramCount(t, "oauth2.request.duration", oauthotel.AttrEndpoint.String("/oauth2/token"), oauthotel.AttrHTTPStatus.Int(200)))
	assert.EqualValues(t, 1, e.histogramCount(t, "oauth2.storage.duration",
		oauthotel.AttrBackend.String("memory"), oauthotel.AttrOperation.String("CreateGrant"), oauthotel.AttrOutcome.String(oauthotel.OutcomeSuccess)))
	assert.Zero(t, e.counterValue(t, "oauth2.requests.failed"))
	require.Len(t, e.events, 1, "the hook passes events on")
	assert.Equal(t, provider.EventTokenIssued, e.events[0].Type)

	endpoint := e.spansNamed("POST /oauth2/token")
	require.Len(t, endpoint, 1)
	sp := endpoint[0]
	assert.Equal(t, trace.SpanKindServer, sp.SpanKind())
	assert.Equal(t, "password", attrOf(sp, oauthotel.AttrGrantType))
	assert.Equal(t, clientID, attrOf(sp, oauthotel.AttrClientID))
	assert.Equal(t, "200", attrOf(sp, oauthotel.AttrHTTPStatus))
	assert.Equal(t, oauthotel.OutcomeSuccess, attrOf(sp, oauthotel.AttrOutcome))
	require.Len(t, sp.Events(), 1)
	assert.Equal(t, string(provider.EventTokenIssued), sp.Events()[0].Name)

	for _, op := range []string{"GetClient", "CreateGrant"} {
		calls := e.spansNamed("oauth2.storage " + op)
		require.NotEmpty(t, calls, op)
		assert.Equal(t, sp.SpanContext().SpanID(), calls[0].Parent().SpanID(), "%s is a child of the endpoint span", op)
		assert.Equal(t, "memory", attrOf(calls[0], oauthotel.AttrBackend))
		assert.Equal(t, clientID, attrOf(calls[0], oauthotel.AttrClientID))
	}
}

func TestRefreshReuse(t *testing.T) {
	e := newEnv(t, 0)
	tok := e.passwordGrant(t)
	e.grant(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	rec := e.post("/oauth2/token", clientID, clientSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())

	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.tokens.issued", oauthotel.AttrGrantType.String("refresh_token")))
	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.refresh.reuse_detected"))
	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.security_events", oauthotel.AttrEvent.String(string(provider.EventRefreshReuse))))
	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.requests.failed",
		oauthotel.AttrEndpoint.String("/oauth2/token"), oauthotel.AttrError.String(provider.CodeInvalidGrant)))
	assert.EqualValues(t, 1, e.histogramCount(t, "oauth2.storage.duration",
		oauthotel.AttrOperation.String("ExchangeToken"), oauthotel.AttrOutcome.String(oauthotel.OutcomeTokenReused)))
	assert.Zero(t, e.counterValue(t, "oauth2.storage.errors"), "reuse is no backend error")

	spans := e.spansNamed("POST /oauth2/token")
	require.Len(t, spans, 3)
	last := spans[2]
	assert.Equal(t, provider.CodeInvalidGrant, attrOf(last, oauthotel.AttrOutcome))
	assert.Equal(t, clientID, attrOf(last, oauthotel.AttrClientID))
	require.Len(t, last.Events(), 1)
	assert.Equal(t, string(provider.EventRefreshReuse), last.Events()[0].Name)
	assert.Equal(t, codes.Unset, last.Status().Code, "a client error is no server error")
}

// The reuse counter has a series at 0 before the first reuse, so that an
// alert on its increase (increase(...) > 0) has something to watch.
func TestReuseCounterStartsAtZero(t *testing.T) {
	e := newEnv(t, 0)
	m, ok := findMetric(e.collect(t), "oauth2.refresh.reuse_detected")
	require.True(t, ok, "no reuse series before the first reuse")
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok)
	require.Len(t, sum.DataPoints, 1)
	assert.Zero(t, sum.DataPoints[0].Value)
}

func TestThrottledRequests(t *testing.T) {
	// Guesses at a secret a person chose are throttled (a generated
	// secret's would not be: it cannot be guessed).
	e := newEnv(t, 2)
	form := url.Values{"grant_type": {"client_credentials"}}
	var statuses []int
	for range 3 {
		statuses = append(statuses, e.post("/oauth2/token", "human", "wrong-secret", form).Code)
	}
	require.Equal(t, []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests}, statuses)

	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.requests.throttled", oauthotel.AttrEndpoint.String("/oauth2/token")))
	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.requests.failed", oauthotel.AttrError.String(provider.CodeSlowDown)))
	assert.EqualValues(t, 2, e.counterValue(t, "oauth2.requests.failed", oauthotel.AttrError.String(provider.CodeInvalidClient)))
	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.security_events", oauthotel.AttrEvent.String(string(provider.EventThrottled))))
	assert.EqualValues(t, 2, e.counterValue(t, "oauth2.security_events", oauthotel.AttrEvent.String(string(provider.EventClientAuthFailed))))
	assert.NotZero(t, e.histogramCount(t, "oauth2.storage.duration", oauthotel.AttrOperation.String("Reserve")))
	// Each attempt reserves a failure under two keys, (client ID, IP)
	// then IP; the third finds the first key throttled and stops there,
	// asking the second only its wait (for Retry-After). After each
	// failure the waits are read back: the second failure throttles the
	// first key.
	spanAttrs := func(name string) []string {
		var out []string
		for _, sp := range e.spansNamed(name) {
			out = append(out, attrOf(sp, oauthotel.AttrThrottled))
		}
		return out
	}
	assert.Equal(t, []string{"false", "false", "false", "false", "true"}, spanAttrs("oauth2.storage Reserve"))
	assert.Equal(t, []string{"false", "false", "true", "false", "false"}, spanAttrs("oauth2.storage Throttled"))
}

func TestPolicyValidation(t *testing.T) {
	e := newEnv(t, 0)
	tok := e.passwordGrant(t)

	rec := e.get("/api/me", "")
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	rec = e.get("/api/me", tok.AccessToken)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "user-1", rec.Body.String(), "the identity reaches the handler")

	assert.EqualValues(t, 1, e.histogramCount(t, "oauth2.validation.duration",
		oauthotel.AttrPolicy.String("bearer"), oauthotel.AttrOutcome.String(oauthotel.OutcomeRefused)))
	assert.EqualValues(t, 1, e.histogramCount(t, "oauth2.validation.duration",
		oauthotel.AttrPolicy.String("bearer"), oauthotel.AttrOutcome.String(oauthotel.OutcomePass)))

	spans := e.spansNamed("oauth2.validate bearer")
	require.Len(t, spans, 2)
	assert.Equal(t, oauthotel.OutcomeRefused, attrOf(spans[0], oauthotel.AttrOutcome))
	assert.Equal(t, "401", attrOf(spans[0], oauthotel.AttrHTTPStatus))
	assert.Equal(t, "unauthorized", attrOf(spans[0], oauthotel.AttrError))
	assert.Equal(t, oauthotel.OutcomePass, attrOf(spans[1], oauthotel.AttrOutcome))
	lookups := e.spansNamed("oauth2.storage LookupToken")
	require.Len(t, lookups, 1)
	assert.Equal(t, spans[1].SpanContext().SpanID(), lookups[0].Parent().SpanID())
	assert.Equal(t, "access", attrOf(lookups[0], oauthotel.AttrTokenKind))
}

// TestPolicyPassesParentSpan checks that the app's handler runs under the
// span the request came with, not under the ended validation span, and
// with the writer the wrapper was given.
func TestPolicyPassesParentSpan(t *testing.T) {
	e := newEnv(t, 0)
	tok := e.passwordGrant(t)
	outerTP := sdktrace.NewTracerProvider()
	ctx, outer := outerTP.Tracer("test").Start(context.Background(), "outer")
	defer outer.End()

	var seen trace.SpanContext
	var seenWriter http.ResponseWriter
	h := e.in.Policy("bearer", policyBearer(e))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = trace.SpanContextFromContext(r.Context())
		seenWriter = w
	}))
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, outer.SpanContext(), seen)
	assert.Same(t, rec, seenWriter)
}

func TestHandlerSpanNameOfUnknownMethod(t *testing.T) {
	e := newEnv(t, 0)
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, httptest.NewRequest("MADEUP", "/oauth2/token", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	spans := e.spansNamed("_OTHER /oauth2/token")
	require.Len(t, spans, 1, "a made-up method does not name a span")
	assert.Equal(t, "_OTHER", attrOf(spans[0], oauthotel.AttrHTTPMethod))
}

// TestHandlerSpanNameOfStandardMethods checks that every standard method
// names its span itself (OpenTelemetry's HTTP conventions); only another
// method is "_OTHER".
func TestHandlerSpanNameOfStandardMethods(t *testing.T) {
	e := newEnv(t, 0)
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace} {
		t.Run(m, func(t *testing.T) {
			e.mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(m, "/oauth2/token", nil))
			spans := e.spansNamed(m + " /oauth2/token")
			require.Len(t, spans, 1)
			assert.Equal(t, m, attrOf(spans[0], oauthotel.AttrHTTPMethod))
		})
	}
}

func TestHandlerErrorCodes(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		outcome  string
		failed   bool
		spanCode codes.Code
	}{
		{"RFC6749 5.1 success", http.StatusOK, `{"access_token":"x"}`, oauthotel.OutcomeSuccess, false, codes.Unset},
		{"RFC6749 5.2 known error code", http.StatusBadRequest, `{"error":"invalid_grant"}`, "invalid_grant", true, codes.Unset},
		{"unknown error code is other", http.StatusBadRequest, `{"error":"made_up_by_attacker"}`, "other", true, codes.Unset},
		{"body without a code is none", http.StatusNotFound, `not json`, "none", true, codes.Unset},
		{"server error marks the span", http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`, "temporarily_unavailable", true, codes.Error},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sr := tracetest.NewSpanRecorder()
			reader := sdkmetric.NewManualReader()
			in, err := oauthotel.New(oauthotel.Config{
				TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr)),
				MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
			})
			require.NoError(t, err)
			e := &env{spans: sr, metrics: reader}
			h := in.Handler("/x", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tc.status != http.StatusOK {
					w.WriteHeader(tc.status)
				}
				_, _ = w.Write([]byte(tc.body))
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/x", nil))
			assert.Equal(t, tc.status, rec.Code)
			assert.Equal(t, tc.body, rec.Body.String(), "the response passes unchanged")

			spans := e.spansNamed("POST /x")
			require.Len(t, spans, 1)
			assert.Equal(t, tc.outcome, attrOf(spans[0], oauthotel.AttrOutcome))
			assert.Equal(t, tc.spanCode, spans[0].Status().Code)
			want := int64(0)
			if tc.failed {
				want = 1
			}
			assert.Equal(t, want, e.counterValue(t, "oauth2.requests.failed", oauthotel.AttrError.String(tc.outcome)))
		})
	}
}

// failingStore is a TokenStore and Cleaner whose backend is down; its
// errors quote a token hash, as a database error might.
type failingStore struct {
	storage.TokenStore // nil: other methods are not called
	deleted            int
}

var errBackend = errors.New("backend down: key (hash)=(" + storage.HashToken("oat_secret").String() + ")")

func (*failingStore) LookupToken(context.Context, storage.TokenKind, storage.TokenRef) (*storage.TokenInfo, error) {
	return nil, errBackend
}

func (f *failingStore) DeleteExpired(context.Context, int) (int, error) {
	f.deleted++
	return 3, nil
}

func TestStorageErrors(t *testing.T) {
	e := newEnv(t, 0)
	fs := &failingStore{}
	ts := e.in.TokenStore("fake", fs)

	_, err := ts.LookupToken(context.Background(), storage.KindAccess, storage.TokenRef{GrantID: "g"})
	assert.ErrorIs(t, err, errBackend, "the error passes unchanged")
	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.storage.errors",
		oauthotel.AttrBackend.String("fake"), oauthotel.AttrOperation.String("LookupToken")))
	spans := e.spansNamed("oauth2.storage LookupToken")
	require.Len(t, spans, 1)
	assert.Equal(t, codes.Error, spans[0].Status().Code)
	assert.Equal(t, oauthotel.OutcomeError, attrOf(spans[0], oauthotel.AttrOutcome))

	// Not found is an outcome, not a backend error.
	_, err = e.in.TokenStore("memory", e.store).LookupToken(context.Background(), storage.KindAccess, storage.TokenRef{GrantID: "g"})
	require.ErrorIs(t, err, storage.ErrNotFound)
	assert.EqualValues(t, 1, e.histogramCount(t, "oauth2.storage.duration",
		oauthotel.AttrBackend.String("memory"), oauthotel.AttrOutcome.String(oauthotel.OutcomeNotFound)))
	assert.Zero(t, e.counterValue(t, "oauth2.storage.errors", oauthotel.AttrBackend.String("memory")))

	for _, s := range e.allRecordedStrings(t) {
		assert.NotContains(t, s, "backend down", "an error's text is recorded")
	}
}

// A stale UpdateClient is an outcome, not a backend error, and the
// wrapper passes the revision through both ways.
func TestStorageConflict(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	cs := e.in.ClientStore("memory", e.store)
	c := &storage.Client{ID: "rev", Public: true, Revision: 9}
	require.NoError(t, cs.CreateClient(ctx, c))
	assert.Equal(t, int64(1), c.Revision, "the store's revision reaches the caller")
	stale, err := cs.GetClient(ctx, "rev")
	require.NoError(t, err)
	assert.Equal(t, int64(1), stale.Revision)
	fresh := *stale
	fresh.Disabled = true
	require.NoError(t, cs.UpdateClient(ctx, &fresh))
	assert.Equal(t, int64(2), fresh.Revision)

	stale.Scopes = []string{"other"}
	err = cs.UpdateClient(ctx, stale)
	require.ErrorIs(t, err, storage.ErrConflict, "the revision reaches the store")
	assert.EqualValues(t, 1, e.histogramCount(t, "oauth2.storage.duration", oauthotel.AttrBackend.String("memory"),
		oauthotel.AttrOperation.String("UpdateClient"), oauthotel.AttrOutcome.String(oauthotel.OutcomeConflict)))
	assert.Zero(t, e.counterValue(t, "oauth2.storage.errors", oauthotel.AttrBackend.String("memory")))
	var conflicts int
	for _, s := range e.spansNamed("oauth2.storage UpdateClient") {
		if attrOf(s, oauthotel.AttrOutcome) == oauthotel.OutcomeConflict {
			conflicts++
			assert.NotEqual(t, codes.Error, s.Status().Code)
		}
	}
	assert.Equal(t, 1, conflicts)
}

func TestTokenStoreKeepsCleaner(t *testing.T) {
	e := newEnv(t, 0)
	fs := &failingStore{}
	cl, ok := e.in.TokenStore("fake", fs).(storage.Cleaner)
	require.True(t, ok, "the wrapper of a Cleaner is a Cleaner")
	n, err := cl.DeleteExpired(context.Background(), 10)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, 1, fs.deleted)
	require.Len(t, e.spansNamed("oauth2.storage DeleteExpired"), 1)

	_, isCleaner := any(e.store).(storage.Cleaner)
	_, wrappedIsCleaner := e.in.TokenStore("memory", e.store).(storage.Cleaner)
	assert.Equal(t, isCleaner, wrappedIsCleaner, "the wrapper adds no capability")
}

func TestEventsDefaultLogs(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)

	in, err := oauthotel.New(oauthotel.Config{})
	require.NoError(t, err)
	in.Events(nil)(context.Background(), provider.Event{Type: provider.EventRefreshReuse, ClientID: clientID, Time: time.Now()})
	assert.Contains(t, buf.String(), "oauth2: refresh_reuse_detected")
	assert.Contains(t, buf.String(), "level=WARN")
}

func TestNoSecretsRecorded(t *testing.T) {
	e := newEnv(t, 0)
	tok := e.passwordGrant(t)
	rotated := e.grant(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	e.post("/oauth2/token", clientID, clientSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}) // reuse
	tok2 := e.passwordGrant(t)
	e.post("/oauth2/introspect", clientID, clientSecret, url.Values{"token": {tok2.AccessToken}})
	e.get("/api/me", tok2.AccessToken)
	e.post("/oauth2/revoke", clientID, clientSecret, url.Values{"token": {tok2.RefreshToken}})
	e.get("/api/me", tok2.AccessToken)
	// A secret typed into the client_id field, and a wrong password.
	misplaced := "misplaced-" + clientSecret
	e.post("/oauth2/token", misplaced, "x", url.Values{"grant_type": {"client_credentials"}})
	e.post("/oauth2/token", clientID, clientSecret, url.Values{"grant_type": {"password"}, "username": {username}, "password": {"wrong-password-42"}})

	secrets := map[string]string{
		"client secret": clientSecret, "misplaced secret": misplaced,
		"password": password, "wrong password": "wrong-password-42", "username": username,
		// Left out too, as the package doc says.
		"user ID": providertest.UserID, "client IP": "192.0.2.1", // httptest.NewRequest's RemoteAddr
	}
	for i, s := range []string{tok.AccessToken, tok.RefreshToken, rotated.AccessToken, rotated.RefreshToken, tok2.AccessToken, tok2.RefreshToken} {
		require.NotEmpty(t, s)
		secrets["token "+string(rune('0'+i))] = s
		secrets["token hash "+string(rune('0'+i))] = storage.HashToken(s).String()
	}

	recorded := e.allRecordedStrings(t)
	require.Contains(t, recorded, "oauth2.client_id="+clientID, "the check sees what was recorded")
	require.Contains(t, recorded, "oauth2.storage.operation=ExchangeToken")
	for _, s := range recorded {
		for name, secret := range secrets {
			assert.False(t, strings.Contains(s, secret), "%s recorded in %q", name, s)
		}
	}
}

// A policy that panics still ends its validation span (the panic goes on
// to the server, which recovers it): no span is left open.
func TestPolicySpanEndsWhenThePolicyPanics(t *testing.T) {
	e := newEnv(t, 0)
	panicking := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("policy bug") })
	}
	h := e.in.Policy("broken", panicking)(http.NotFoundHandler())
	assert.Panics(t, func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil)) })
	assert.Len(t, e.spansNamed("oauth2.validate broken"), 1, "the span ended")
}

// An event's reason is on its span event (not on the span: a request may
// have several events).
func TestEventReasonOnSpanEvent(t *testing.T) {
	e := newEnv(t, 0)
	hook := e.in.Events(func(context.Context, provider.Event) {})
	h := e.in.Handler("/login", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hook(r.Context(), provider.Event{Type: provider.EventRefreshReuse, ClientID: clientID, Reason: "revoke failed"})
		w.WriteHeader(http.StatusNoContent)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/login", nil))
	spans := e.spansNamed("POST /login")
	require.Len(t, spans, 1)
	require.Len(t, spans[0].Events(), 1)
	assert.Contains(t, spans[0].Events()[0].Attributes, oauthotel.AttrReason.String("revoke failed"))
	assert.Contains(t, spans[0].Events()[0].Attributes, oauthotel.AttrClientID.String(clientID))
	assert.Empty(t, attrOf(spans[0], oauthotel.AttrReason))
}
