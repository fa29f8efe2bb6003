package oauthotel_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// The shared fixtures' client and user (internal/providertest).
const (
	clientID = providertest.ClientID
	username = providertest.Username
	password = providertest.Password
)

// clientSecret is clientID's secret, a generated one.
var clientSecret = providertest.ClientSecret()

// env is a provider instrumented everywhere, with in-memory exporters.
type env struct {
	spans   *tracetest.SpanRecorder
	metrics *sdkmetric.ManualReader
	in      *oauthotel.Instrumentation
	p       *provider.Provider
	mux     *http.ServeMux
	store   *memory.Store
	events  []provider.Event // passed on by the hook
}

// newEnv wires the provider over a memory store, through every wrapper,
// with client-secret throttling after clientBurst failures (0: default).
func newEnv(t testing.TB, clientBurst int) *env {
	t.Helper()
	e := &env{spans: tracetest.NewSpanRecorder(), metrics: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(e.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.metrics))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	var err error
	e.in, err = oauthotel.New(oauthotel.Config{TracerProvider: tp, MeterProvider: mp})
	require.NoError(t, err)

	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e.store = memory.New(memory.Config{Now: clock})
	users := providertest.AddFixtures(t, e.store)
	// "human" has a secret a person chose (bcrypt, the minimum cost),
	// whose failures are throttled.
	require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{
		ID:         "human",
		SecretHash: providertest.PasswordHash(),
		GrantTypes: []string{storage.GrantClientCredentials},
		Scopes:     []string{"read"},
	}))
	cfg := provider.Config{
		Clients:           e.in.ClientStore("memory", e.store),
		Tokens:            e.in.TokenStore("memory", e.store),
		Limiter:           e.in.Limiter("memory", memory.NewLimiter(memory.LimiterConfig{Now: clock})),
		Users:             users,
		Scopes:            []string{"read", "write"},
		Issuer:            "https://auth.example.com",
		AllowInsecureHTTP: true,
		Now:               clock,
		Events:            e.in.Events(func(_ context.Context, ev provider.Event) { e.events = append(e.events, ev) }),
	}
	if clientBurst > 0 {
		cfg.ClientRate = storage.Rate{Burst: clientBurst, Every: time.Hour}
	}
	e.p, err = provider.New(cfg)
	require.NoError(t, err)

	e.mux = http.NewServeMux()
	e.mux.Handle("/oauth2/token", e.in.Handler("/oauth2/token", e.p.TokenHandler()))
	e.mux.Handle("/oauth2/revoke", e.in.Handler("/oauth2/revoke", e.p.RevokeHandler()))
	e.mux.Handle("/oauth2/introspect", e.in.Handler("/oauth2/introspect", e.p.IntrospectHandler()))
	e.mux.Handle("/api/me", e.in.Policy("bearer", policy.Bearer(e.p))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := policy.IdentityFrom(r.Context())
		_, _ = w.Write([]byte(id.UserID))
	})))
	return e
}

// post sends a form with Basic client credentials id:secret.
func (e *env) post(path, id, secret string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// grant runs a token request that must succeed.
func (e *env) grant(t testing.TB, form url.Values) tokens {
	t.Helper()
	rec := e.post("/oauth2/token", clientID, clientSecret, form)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var tok tokens
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &tok))
	require.NotEmpty(t, tok.AccessToken)
	return tok
}

func (e *env) passwordGrant(t testing.TB) tokens {
	return e.grant(t, url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}, "scope": {"read"}})
}

// get sends a GET with an optional bearer token.
func (e *env) get(path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec
}

// collect reads every metric.
func (e *env) collect(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, e.metrics.Collect(context.Background(), &rm))
	return rm
}

// findMetric returns the metric called name, or false.
func findMetric(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// hasAttrs reports whether set holds every one of want.
func hasAttrs(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		v, ok := set.Value(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// counterValue sums the points of counter name whose attributes hold
// want.
func (e *env) counterValue(t testing.TB, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	m, ok := findMetric(e.collect(t), name)
	if !ok {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is not an int64 sum", name)
	var n int64
	for _, dp := range sum.DataPoints {
		if hasAttrs(dp.Attributes, want) {
			n += dp.Value
		}
	}
	return n
}

// histogramCount counts the recordings of histogram name whose
// attributes hold want.
func (e *env) histogramCount(t testing.TB, name string, want ...attribute.KeyValue) uint64 {
	t.Helper()
	m, ok := findMetric(e.collect(t), name)
	if !ok {
		return 0
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s is not a float64 histogram", name)
	var n uint64
	for _, dp := range h.DataPoints {
		if hasAttrs(dp.Attributes, want) {
			n += dp.Count
		}
	}
	return n
}

// spansNamed returns the ended spans called name.
func (e *env) spansNamed(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range e.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// attrOf returns the value of key on s, or "" when it has none.
func attrOf(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value.String()
		}
	}
	return ""
}

// allRecordedStrings returns every attribute value and name the
// exporters hold: span names, span and span-event attributes, status
// descriptions, and metric data point attributes.
func (e *env) allRecordedStrings(t testing.TB) []string {
	t.Helper()
	var out []string
	add := func(kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			out = append(out, string(kv.Key)+"="+kv.Value.String())
		}
	}
	for _, s := range e.spans.Ended() {
		out = append(out, s.Name(), s.Status().Description)
		add(s.Attributes())
		for _, ev := range s.Events() {
			out = append(out, ev.Name)
			add(ev.Attributes)
		}
	}
	for _, sm := range e.collect(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes.ToSlice())
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					add(dp.Attributes.ToSlice())
				}
			default:
				t.Fatalf("metric %s has an unexpected type %T", m.Name, m.Data)
			}
		}
	}
	return out
}

// policyBearer returns the bearer policy of e's provider.
func policyBearer(e *env) func(http.Handler) http.Handler { return policy.Bearer(e.p) }
