package oauthotel

import (
	"context"

	"github.com/oauth2provider/oauth2provider/provider"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Events returns a hook for provider.Config.Events. For each event it
//
//   - counts it in oauth2.security_events by type, EventTokenIssued also
//     in oauth2.tokens.issued by grant type and EventRefreshReuse in
//     oauth2.refresh.reuse_detected;
//   - adds it as a span event, with its grant type, client ID and reason,
//     to the span of the request it happened in (the one
//     [Instrumentation.Handler] started), and sets the span's grant type
//     and client ID attributes;
//   - passes it on to next.
//
// Nil next means what the provider does without a hook and without
// Config.Logger: log the event to slog.Default() (provider.LogEvents(nil)),
// so that adding metrics does not silence the security log. An app whose
// Config.Logger is set passes provider.LogEvents(logger), since a hook
// replaces that logging; a function that does nothing records metrics
// only.
func (in *Instrumentation) Events(next func(context.Context, provider.Event)) func(context.Context, provider.Event) {
	if next == nil {
		next = provider.LogEvents(nil)
	}
	return func(ctx context.Context, e provider.Event) {
		in.record(ctx, e)
		next(ctx, e)
	}
}

// record counts e and annotates the current span.
func (in *Instrumentation) record(ctx context.Context, e provider.Event) {
	in.securityEvents.Add(ctx, 1, metric.WithAttributes(AttrEvent.String(string(e.Type))))
	switch e.Type {
	case provider.EventTokenIssued:
		in.tokensIssued.Add(ctx, 1, metric.WithAttributes(AttrGrantType.String(e.GrantType)))
	case provider.EventRefreshReuse:
		in.reuseDetected.Add(ctx, 1)
	}

	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 3)
	if e.GrantType != "" {
		attrs = append(attrs, AttrGrantType.String(e.GrantType))
	}
	// The provider leaves out a client_id that names no client.
	if e.ClientID != "" {
		attrs = append(attrs, AttrClientID.String(e.ClientID))
	}
	span.SetAttributes(attrs...)
	if e.Reason != "" {
		attrs = append(attrs, AttrReason.String(e.Reason))
	}
	span.AddEvent(string(e.Type), trace.WithAttributes(attrs...))
}
