// Package oauthotel instruments oauth2provider with OpenTelemetry traces
// and metrics, without the core module importing OpenTelemetry.
//
// An [Instrumentation] hooks in at four places, each optional:
//
//   - [Instrumentation.Events] is a provider.Config.Events hook: it counts
//     tokens issued by grant type, refresh-token reuse and every security
//     event by type, and annotates the current endpoint span with the
//     grant type, client ID and the event.
//   - [Instrumentation.Handler] wraps an endpoint handler (token,
//     revocation, introspection, metadata, login, ...) in a span named
//     after its route, and counts failed requests by OAuth error code and
//     throttled (429) requests.
//   - [Instrumentation.Policy] wraps a policy (policy.Bearer, Cookie,
//     CookieOrBearer) and records how long validating a credential takes.
//   - [Instrumentation.ClientStore], [Instrumentation.TokenStore] and
//     [Instrumentation.Limiter] wrap the storage with a span per call and
//     latency and error metrics labelled by backend.
//
// Nothing it records holds a token, a token hash, a client secret, a
// password, a username or a throttling key. A client ID is recorded only
// once the client is known to exist (a client_id that names no client may
// be a misplaced secret); user IDs and IP addresses are left out.
//
// Metrics (names as OpenTelemetry has them; the Prometheus exporter turns
// dots into underscores and adds _total or the unit):
//
//	oauth2.tokens.issued            counter    oauth2.grant_type
//	oauth2.refresh.reuse_detected   counter
//	oauth2.security_events          counter    oauth2.event
//	oauth2.requests.failed          counter    oauth2.endpoint, oauth2.error
//	oauth2.requests.throttled       counter    oauth2.endpoint
//	oauth2.request.duration         histogram  oauth2.endpoint, http.response.status_code (s)
//	oauth2.validation.duration      histogram  oauth2.policy, oauth2.outcome (s)
//	oauth2.storage.duration         histogram  oauth2.storage.backend, oauth2.storage.operation, oauth2.outcome (s)
//	oauth2.storage.errors           counter    oauth2.storage.backend, oauth2.storage.operation
//
// It is its own Go module:
//
//	go get github.com/oauth2provider/oauth2provider/contrib/otel
package oauthotel
