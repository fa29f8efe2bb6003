package provider

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
)

// EventType names a security event of the provider.
type EventType string

// Security events. Each is reported to Config.Events, or logged to
// Config.Logger, when it happens.
const (
	// EventTokenIssued: the token endpoint issued tokens (any grant,
	// rotation included). GrantType, ClientID, GrantID and, for a user's
	// grant, UserID are set.
	EventTokenIssued EventType = "token_issued"
	// EventRefreshReuse: a consumed refresh token was presented again;
	// the store revoked its whole grant (RFC 9700 §4.14.2).
	EventRefreshReuse EventType = "refresh_reuse_detected"
	// EventCodeReuse: an authorization code was presented again after
	// its exchange; the store revoked its grant, every token issued from
	// the code (RFC 6749 §4.1.2): an intercepted code, or a client that
	// exchanges twice.
	EventCodeReuse EventType = "code_reuse_detected"
	// EventGrantRevoked: a grant was revoked at the revocation endpoint
	// (RFC 7009).
	EventGrantRevoked EventType = "grant_revoked"
	// EventBindingMismatch: a bound token was presented by another user
	// agent (see Config token binding). Reported once the provider tried
	// to revoke its grant; Reason says whether that failed.
	EventBindingMismatch EventType = "binding_mismatch"
	// EventThrottled: failed attempts under a throttling key reached its
	// limit; further attempts are refused with 429 until RetryAfter has
	// passed. Reported once per failure that leaves the key throttled,
	// not for each refused attempt, so that an attack cannot flood the
	// log faster than the limit lets it guess.
	EventThrottled EventType = "throttled"
	// EventClientAuthFailed: a client presented a wrong secret, or none
	// where it needs one (an unknown or confidential client ID alone), or
	// a disabled client a right one.
	EventClientAuthFailed EventType = "client_auth_failed"
	// EventUserAuthFailed: a wrong username or password at the password
	// grant or a login form ([Provider.AuthenticateUser]).
	EventUserAuthFailed EventType = "user_auth_failed"
)

// Event is a security event. It carries identifiers only: never a
// token, a secret, a password or a username (a username field sometimes
// holds a mistyped password). An empty field is unknown or does not apply.
type Event struct {
	// Type is what happened.
	Type EventType
	// Time is when, by the provider's clock.
	Time time.Time
	// ClientID is the client, when it is a registered client. A client_id
	// that names no client is left out: it may be a misplaced secret.
	ClientID string
	// UserID is the resource owner's stable ID.
	UserID string
	// GrantID identifies the grant (not secret: every token carries it).
	GrantID string
	// GrantType is the grant type of a token request.
	GrantType string
	// IP is the client's address (Provider.ClientIP); invalid when not
	// known.
	IP netip.Addr
	// Reason is a short fixed explanation, never user input.
	Reason string
	// RetryAfter is how long a throttled key must wait (EventThrottled).
	RetryAfter time.Duration
}

// Level returns the slog level the default logger records e at: Info for
// routine events (tokens issued, grants revoked), Warn for the rest.
func (e Event) Level() slog.Level {
	switch e.Type {
	case EventTokenIssued, EventGrantRevoked:
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

// Attrs returns e's non-empty fields as slog attributes, for handlers
// that log events their own way.
func (e Event) Attrs() []slog.Attr {
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.String("event", string(e.Type)))
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("client_id", e.ClientID)
	add("user_id", e.UserID)
	add("grant_id", e.GrantID)
	add("grant_type", e.GrantType)
	if e.IP.IsValid() {
		attrs = append(attrs, slog.String("ip", e.IP.String()))
	}
	add("reason", e.Reason)
	if e.RetryAfter > 0 {
		attrs = append(attrs, slog.Duration("retry_after", e.RetryAfter))
	}
	return attrs
}

// emit reports a security event: to Config.Events when set, else to
// Config.Logger (or slog's default logger, looked up now). It fills in
// Time. Code of the provider calls it wherever a security event happens,
// e.g. p.emit(ctx, Event{Type: EventBindingMismatch, GrantID: id, ...}).
// The hook gets ctx without its cancellation (its values kept): what the
// event reports happened, whether or not the client is still there, and
// a hook that sends it on must not drop it when the client has gone.
func (p *Provider) emit(ctx context.Context, e Event) {
	if e.Time.IsZero() {
		e.Time = p.now()
	}
	if p.cfg.Events != nil {
		ctx = context.WithoutCancel(ctx)
		defer p.recoverHook(ctx, e)
		p.cfg.Events(ctx, e)
		return
	}
	logEvent(ctx, p.cfg.Logger, e)
}

// recoverHook, deferred around a call of Config.Events with e, stops a
// panic of the hook there and logs it to Config.Logger (or slog's
// default logger): the hook runs after the store has acted (tokens
// issued, a refresh token consumed, a binding mismatch's grant revoked),
// and a panic reaching the server would drop the response the client
// needs.
func (p *Provider) recoverHook(ctx context.Context, e Event) {
	v := recover()
	if v == nil {
		return
	}
	orDefault(p.cfg.Logger).LogAttrs(ctx, slog.LevelError, "oauth2: Events hook panicked",
		slog.String("event", string(e.Type)), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
}

// orDefault returns l, or slog's default logger, looked up now, when l
// is nil (what a nil Config.Logger means).
func orDefault(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

// LogEvents returns a Config.Events hook that logs each event to l as
// the provider does when Config.Events is nil (nil l: slog's default
// logger, looked up at each event): at the event's Level, with the
// message "oauth2: " and its type, and its Attrs. A hook that also does
// something else (count events, alert) calls it to keep the log.
func LogEvents(l *slog.Logger) func(context.Context, Event) {
	return func(ctx context.Context, e Event) { logEvent(ctx, l, e) }
}

// logEvent logs e to l, or to slog's default logger when l is nil.
func logEvent(ctx context.Context, l *slog.Logger, e Event) {
	orDefault(l).LogAttrs(ctx, e.Level(), "oauth2: "+string(e.Type), e.Attrs()...)
}

// emitIssued reports EventTokenIssued for a successful token response
// to client c, at the time its tokens were minted: the grant read the
// clock already.
func (p *Provider) emitIssued(ctx context.Context, c *authenticatedClient, grantType string, resp *tokenResponse) {
	p.emit(ctx, Event{Type: EventTokenIssued, Time: resp.issuedAt, ClientID: c.ID, UserID: resp.UserID,
		GrantID: resp.grantID, GrantType: grantType, IP: c.ip})
}

// reusedUser is the user of the grant that err, a store's
// storage.ErrTokenReused, names (a *storage.ReuseError) when that is the
// grant grantID of client clientID; "" when it names none (a store that
// returns the bare sentinel, or a nil *storage.ReuseError) or another.
func reusedUser(err error, grantID, clientID string) string {
	if re, ok := errors.AsType[*storage.ReuseError](err); ok && re != nil && re.GrantID == grantID && re.ClientID == clientID {
		return re.UserID
	}
	return ""
}
