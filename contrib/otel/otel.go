package oauthotel

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/oauth2provider/oauth2provider/contrib/otel"

// Attribute keys the instrumentation records.
const (
	AttrGrantType  = attribute.Key("oauth2.grant_type")
	AttrClientID   = attribute.Key("oauth2.client_id")
	AttrEvent      = attribute.Key("oauth2.event")
	AttrReason     = attribute.Key("oauth2.reason")
	AttrOutcome    = attribute.Key("oauth2.outcome")
	AttrError      = attribute.Key("oauth2.error")
	AttrEndpoint   = attribute.Key("oauth2.endpoint")
	AttrPolicy     = attribute.Key("oauth2.policy")
	AttrTokenKind  = attribute.Key("oauth2.token.kind")
	AttrBackend    = attribute.Key("oauth2.storage.backend")
	AttrOperation  = attribute.Key("oauth2.storage.operation")
	AttrCount      = attribute.Key("oauth2.storage.count")
	AttrHTTPMethod = attribute.Key("http.request.method")
	AttrHTTPRoute  = attribute.Key("http.route")
	AttrHTTPStatus = attribute.Key("http.response.status_code")
)

// Outcomes recorded in [AttrOutcome].
const (
	OutcomeSuccess = "success" // an endpoint answered 2xx/3xx; a store call succeeded
	OutcomePass    = "pass"    // a policy let the request through
	OutcomeRefused = "refused" // a policy answered the request itself
	// Store call outcomes other than success and their error sentinels.
	OutcomeNotFound      = "not_found"      // storage.ErrNotFound
	OutcomeAlreadyExists = "already_exists" // storage.ErrAlreadyExists
	OutcomeTokenReused   = "token_reused"   // storage.ErrTokenReused
	OutcomeConflict      = "conflict"       // UpdateClient: storage.ErrConflict, the client changed since it was read
	OutcomeCheckFailed   = "check_failed"   // ExchangeToken: the caller's Exchange.Check refused the grant
	OutcomeCanceled      = "canceled"       // context.Canceled: the caller gave up (a client that went away), no backend failure
	OutcomeError         = "error"          // any other error: the backend failed
)

// durationBuckets are histogram bounds in seconds, from 100 µs (a memory
// store lookup) to 10 s (a timed-out backend).
var durationBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Config configures an [Instrumentation]. The zero Config uses the global
// providers.
type Config struct {
	// TracerProvider makes the tracer. Nil means otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// MeterProvider makes the meter. Nil means otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
}

// Instrumentation records the provider's traces and metrics. It is safe
// for concurrent use; make one per process and share it.
type Instrumentation struct {
	tracer trace.Tracer

	tokensIssued      metric.Int64Counter
	reuseDetected     metric.Int64Counter
	securityEvents    metric.Int64Counter
	requestsFailed    metric.Int64Counter
	requestsThrottled metric.Int64Counter
	requestDuration   metric.Float64Histogram
	validation        metric.Float64Histogram
	storageDuration   metric.Float64Histogram
	storageErrors     metric.Int64Counter
}

// New returns an Instrumentation on cfg's providers, or an error when an
// instrument cannot be created.
func New(cfg Config) (*Instrumentation, error) {
	tp, mp := cfg.TracerProvider, cfg.MeterProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	in := &Instrumentation{tracer: tp.Tracer(ScopeName)}
	m := mp.Meter(ScopeName)
	var err error
	counter := func(dst *metric.Int64Counter, name, unit, desc string) {
		if err == nil {
			*dst, err = m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		}
	}
	histogram := func(dst *metric.Float64Histogram, name, desc string) {
		if err == nil {
			*dst, err = m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
				metric.WithExplicitBucketBoundaries(durationBuckets...))
		}
	}
	counter(&in.tokensIssued, "oauth2.tokens.issued", "{response}", "Token responses issued, by grant type.")
	counter(&in.reuseDetected, "oauth2.refresh.reuse_detected", "{event}", "Consumed refresh tokens presented again; each revoked its grant.")
	counter(&in.securityEvents, "oauth2.security_events", "{event}", "Security events of the provider, by type.")
	counter(&in.requestsFailed, "oauth2.requests.failed", "{request}", "Endpoint requests answered with an error, by endpoint and OAuth error code.")
	counter(&in.requestsThrottled, "oauth2.requests.throttled", "{request}", "Endpoint requests refused with 429 by brute-force throttling.")
	histogram(&in.requestDuration, "oauth2.request.duration", "Duration of endpoint requests.")
	histogram(&in.validation, "oauth2.validation.duration", "Time a policy takes to validate a request's credential.")
	histogram(&in.storageDuration, "oauth2.storage.duration", "Duration of storage calls, by backend and operation.")
	counter(&in.storageErrors, "oauth2.storage.errors", "{call}", "Storage calls that failed (backend errors; not found, or a call its caller cancelled, is none).")
	if err != nil {
		return nil, fmt.Errorf("oauthotel: %w", err)
	}
	// The reuse counter exists from the start at 0, so that an alert on
	// its increase has a series to watch before the first reuse.
	in.reuseDetected.Add(context.Background(), 0)
	return in, nil
}
