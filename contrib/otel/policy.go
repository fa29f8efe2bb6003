package oauthotel

import (
	"net/http"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Policy wraps a policy (such as policy.Bearer(p), policy.Cookie(s) or
// policy.CookieOrBearer(s); name says which, e.g. "bearer") so that the
// validation of each request's credential is a span "oauth2.validate
// <name>", whose children are the storage calls it makes, and is timed in
// oauth2.validation.duration with its outcome: OutcomePass when the
// policy let the request through, OutcomeRefused when it answered itself
// (the span then records the status and error code). A policy that
// panics leaves its span with the status Error.
//
// The request passed on carries the span the request came with, not the
// validation span, so the app's own spans are not children of it; the
// ResponseWriter passed on is the one the wrapper got.
func (in *Instrumentation) Policy(name string, mw func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	if mw == nil {
		panic("oauthotel: Policy needs a policy")
	}
	spanName := "oauth2.validate " + name
	policyAttr := AttrPolicy.String(name)
	pass := metric.WithAttributes(policyAttr, AttrOutcome.String(OutcomePass))
	refused := metric.WithAttributes(policyAttr, AttrOutcome.String(OutcomeRefused))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			parent := trace.SpanFromContext(r.Context())
			start := time.Now()
			ctx, span := in.tracer.Start(r.Context(), spanName, trace.WithAttributes(policyAttr))
			// The span ends once: when the policy lets the request through
			// (before the app's handler runs), when it refuses it, or
			// when it panics (an error of the validation).
			ended := false
			end := func() {
				if !ended {
					ended = true
					span.End()
				}
			}
			defer func() {
				if !ended {
					span.SetStatus(codes.Error, "policy panicked")
				}
				end()
			}()
			passed := false
			rec := &responseRecorder{ResponseWriter: w}
			mw(http.HandlerFunc(func(_ http.ResponseWriter, r2 *http.Request) {
				passed = true
				in.validation.Record(ctx, time.Since(start).Seconds(), pass)
				span.SetAttributes(AttrOutcome.String(OutcomePass))
				end()
				next.ServeHTTP(w, r2.WithContext(trace.ContextWithSpan(r2.Context(), parent)))
			})).ServeHTTP(rec, r.WithContext(ctx))
			if passed {
				return
			}
			in.validation.Record(ctx, time.Since(start).Seconds(), refused)
			status := rec.statusCode()
			span.SetAttributes(AttrOutcome.String(OutcomeRefused), AttrHTTPStatus.Int(status))
			if status >= 400 {
				span.SetAttributes(AttrError.String(rec.errorCode()))
			}
			if status >= 500 {
				span.SetStatus(codes.Error, rec.errorCode())
			}
			end()
		})
	}
}
