package oauthotel

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/oauth2provider/oauth2provider/provider"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// knownCodes are the error codes recorded as they are; any other is
// recorded as "other", so that a response cannot grow the metric's
// label set.
var knownCodes = map[string]bool{
	provider.CodeInvalidRequest:          true,
	provider.CodeInvalidClient:           true,
	provider.CodeInvalidGrant:            true,
	provider.CodeUnauthorizedClient:      true,
	provider.CodeUnsupportedGrantType:    true,
	provider.CodeInvalidScope:            true,
	provider.CodeInvalidToken:            true,
	provider.CodeInsufficientScope:       true,
	provider.CodeTemporarilyUnavailable:  true,
	provider.CodeSlowDown:                true,
	"unauthorized":                       true, // policies: no credentials
	"cross_origin_request":               true, // cookie policies: CSRF refused
	"server_error":                       true,
	provider.CodeAccessDenied:            true,
	provider.CodeUnsupportedResponseType: true,
}

// maxErrorBody is how much of an error response is kept to read its
// error code; OAuth error bodies are short, and no success body (which
// holds tokens) is ever kept.
const maxErrorBody = 512

// Handler wraps h, an endpoint of the provider or of a policy (token,
// revocation, introspection, metadata, login, logout), in a span named
// "<method> <route>" (a method other than the standard ones is
// "_OTHER"; route is the path it is mounted at, e.g.
// "/oauth2/token"), child of any span in the request's context. The span
// records the method, route, status, outcome (OutcomeSuccess or the OAuth
// error code) and, through [Instrumentation.Events], the grant type,
// client ID and security events of the request.
//
// It also records oauth2.request.duration, counts a response of status
// 400 or more in oauth2.requests.failed by its error code (the "error"
// member of its JSON body; "other" for an unknown code, "none" for no
// code), and a 429 in oauth2.requests.throttled. A panic of h is
// recorded as a 500 server_error (net/http recovers it and drops the
// response), and then goes on.
//
// The handler after it gets a ResponseWriter that supports
// http.ResponseController (it has Unwrap).
func (in *Instrumentation) Handler(route string, h http.Handler) http.Handler {
	endpoint := AttrEndpoint.String(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		method := knownMethod(r.Method)
		ctx, span := in.tracer.Start(r.Context(), method+" "+route,
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(AttrHTTPMethod.String(method), AttrHTTPRoute.String(route)))
		defer span.End()

		rec := &responseRecorder{ResponseWriter: w}
		panicked := true
		defer func() {
			if panicked {
				// net/http recovers the panic and drops the response:
				// a server error, recorded before the panic goes on.
				in.finish(ctx, span, endpoint, start, http.StatusInternalServerError, "server_error")
			}
		}()
		h.ServeHTTP(rec, r.WithContext(ctx))
		panicked = false
		status, code := rec.statusCode(), ""
		if status >= 400 {
			code = rec.errorCode()
		}
		in.finish(ctx, span, endpoint, start, status, code)
	})
}

// finish records a request of endpoint answered with status and, for a
// status of 400 or more, the error code code: its span's attributes and
// status, its duration and the failure counters.
func (in *Instrumentation) finish(ctx context.Context, span trace.Span, endpoint attribute.KeyValue, start time.Time, status int, code string) {
	span.SetAttributes(AttrHTTPStatus.Int(status))
	in.requestDuration.Record(ctx, time.Since(start).Seconds(),
		metric.WithAttributes(endpoint, AttrHTTPStatus.Int(status)))
	if status < 400 {
		span.SetAttributes(AttrOutcome.String(OutcomeSuccess))
		return
	}
	span.SetAttributes(AttrOutcome.String(code), AttrError.String(code))
	if status >= 500 {
		span.SetStatus(codes.Error, code)
	}
	in.requestsFailed.Add(ctx, 1, metric.WithAttributes(endpoint, AttrError.String(code)))
	if status == http.StatusTooManyRequests {
		in.requestsThrottled.Add(ctx, 1, metric.WithAttributes(endpoint))
	}
}

// knownMethod returns m when it is a standard HTTP method, else "_OTHER"
// (as OpenTelemetry's HTTP conventions say), so that a client cannot
// make up span names.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// responseRecorder passes a response on and keeps its status and, for an
// error status, the start of its body.
type responseRecorder struct {
	http.ResponseWriter
	status int
	body   []byte // only for status >= 400, at most maxErrorBody bytes
}

func (rr *responseRecorder) WriteHeader(status int) {
	if rr.status == 0 && status >= 200 { // informational responses come before the real one
		rr.status = status
	}
	rr.ResponseWriter.WriteHeader(status)
}

func (rr *responseRecorder) Write(b []byte) (int, error) {
	if rr.status == 0 {
		rr.status = http.StatusOK
	}
	if rr.status >= 400 && len(rr.body) < maxErrorBody {
		rr.body = append(rr.body, b[:min(len(b), maxErrorBody-len(rr.body))]...)
	}
	return rr.ResponseWriter.Write(b)
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (rr *responseRecorder) Unwrap() http.ResponseWriter { return rr.ResponseWriter }

// statusCode returns the status sent, 200 when the handler sent nothing.
func (rr *responseRecorder) statusCode() int {
	if rr.status == 0 {
		return http.StatusOK
	}
	return rr.status
}

// errorCode returns the OAuth error code of the recorded error body:
// a known code, "other", or "none" when the body has none.
func (rr *responseRecorder) errorCode() string {
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(rr.body, &body) != nil || body.Error == "" {
		return "none"
	}
	if !knownCodes[body.Error] {
		return "other"
	}
	return body.Error
}
