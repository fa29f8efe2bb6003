package oauthotel

import (
	"context"
	"errors"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// call is one observed storage call.
type call struct {
	in      *Instrumentation
	ctx     context.Context
	span    trace.Span
	start   time.Time
	backend attribute.KeyValue
	op      attribute.KeyValue
	ended   bool
}

// begin starts the span "oauth2.storage <op>" of a call to backend. The
// caller defers [call.abandon] on the call it returns, and ends it with
// [call.end] or [call.endAs].
func (in *Instrumentation) begin(ctx context.Context, backend attribute.KeyValue, op string, attrs ...attribute.KeyValue) (context.Context, *call) {
	opAttr := AttrOperation.String(op)
	ctx, span := in.tracer.Start(ctx, "oauth2.storage "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(backend, opAttr), trace.WithAttributes(attrs...))
	return ctx, &call{in: in, ctx: ctx, span: span, start: time.Now(), backend: backend, op: opAttr}
}

// end records the call's outcome and duration and ends its span. The
// error's text is never recorded: a backend's message may quote the
// values (token hashes) of a statement.
func (c *call) end(err error, attrs ...attribute.KeyValue) {
	c.endAs(outcomeOf(err), attrs...)
}

// endAs is end with the outcome already known.
func (c *call) endAs(outcome string, attrs ...attribute.KeyValue) {
	c.finish(outcome, "storage call failed", attrs...)
}

// abandon, deferred right after begin, ends a call that did not end: the
// store panicked (a driver bug, which net/http recovers from). That is a
// failed call, recorded as one; the panic goes on.
func (c *call) abandon() {
	if !c.ended {
		c.finish(OutcomeError, "storage call panicked")
	}
}

// finish records the call's outcome and duration and ends its span, with
// the status Error and description desc for OutcomeError.
func (c *call) finish(outcome, desc string, attrs ...attribute.KeyValue) {
	c.ended = true
	c.span.SetAttributes(AttrOutcome.String(outcome))
	c.span.SetAttributes(attrs...)
	if outcome == OutcomeError {
		c.span.SetStatus(codes.Error, desc)
		c.in.storageErrors.Add(c.ctx, 1, metric.WithAttributes(c.backend, c.op))
	}
	c.in.storageDuration.Record(c.ctx, time.Since(c.start).Seconds(),
		metric.WithAttributes(c.backend, c.op, AttrOutcome.String(outcome)))
	c.span.End()
}

// outcomeOf classifies a store's error by its sentinel.
func outcomeOf(err error) string {
	switch {
	case err == nil:
		return OutcomeSuccess
	case errors.Is(err, storage.ErrNotFound):
		return OutcomeNotFound
	case errors.Is(err, storage.ErrAlreadyExists):
		return OutcomeAlreadyExists
	case errors.Is(err, storage.ErrTokenReused):
		return OutcomeTokenReused
	case errors.Is(err, storage.ErrConflict):
		return OutcomeConflict
	case errors.Is(err, context.Canceled):
		// The caller cancelled the call; a deadline that ran out
		// (context.DeadlineExceeded) is a backend too slow, an error.
		return OutcomeCanceled
	}
	return OutcomeError
}

// ClientStore returns s with a span per call and oauth2.storage.duration
// and oauth2.storage.errors labelled with backend (e.g. "memory",
// "postgres", "redis"). The client ID is recorded only for a client that
// exists: GetClient's argument comes from the request, where it may be a
// misplaced secret. When s is a storage.ClientViewer (an in-process
// store), so is the result, and ViewClient is observed too (as the
// operation GetClient, which it is to the provider's lookups): the provider
// never caches such a store's clients (provider.Config.ClientCacheTTL),
// and wrapping it must not start to.
func (in *Instrumentation) ClientStore(backend string, s storage.ClientStore) storage.ClientStore {
	cs := &clientStore{in: in, s: s, backend: AttrBackend.String(backend)}
	if v, ok := s.(storage.ClientViewer); ok {
		return &viewingClientStore{clientStore: cs, v: v}
	}
	return cs
}

// viewingClientStore is a clientStore over a store that is also a
// ClientViewer.
type viewingClientStore struct {
	*clientStore
	v storage.ClientViewer
}

var _ storage.ClientViewer = (*viewingClientStore)(nil)

func (cs *viewingClientStore) ViewClient(ctx context.Context, id string) (*storage.Client, error) {
	ctx, c := cs.in.begin(ctx, cs.backend, "GetClient")
	defer c.abandon()
	cl, err := cs.v.ViewClient(ctx, id)
	if err == nil && cl != nil {
		c.end(nil, AttrClientID.String(cl.ID))
	} else {
		c.end(err)
	}
	return cl, err
}

type clientStore struct {
	in      *Instrumentation
	s       storage.ClientStore
	backend attribute.KeyValue
}

var _ storage.ClientStore = (*clientStore)(nil)

func (cs *clientStore) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	ctx, c := cs.in.begin(ctx, cs.backend, "GetClient")
	defer c.abandon()
	cl, err := cs.s.GetClient(ctx, id)
	if err == nil && cl != nil {
		c.end(nil, AttrClientID.String(cl.ID))
	} else {
		c.end(err)
	}
	return cl, err
}

func (cs *clientStore) CreateClient(ctx context.Context, cl *storage.Client) error {
	ctx, c := cs.in.begin(ctx, cs.backend, "CreateClient", AttrClientID.String(cl.ID))
	defer c.abandon()
	err := cs.s.CreateClient(ctx, cl)
	c.end(err)
	return err
}

func (cs *clientStore) UpdateClient(ctx context.Context, cl *storage.Client) error {
	ctx, c := cs.in.begin(ctx, cs.backend, "UpdateClient", AttrClientID.String(cl.ID))
	defer c.abandon()
	err := cs.s.UpdateClient(ctx, cl)
	c.end(err)
	return err
}

func (cs *clientStore) ListClients(ctx context.Context) ([]*storage.Client, error) {
	ctx, c := cs.in.begin(ctx, cs.backend, "ListClients")
	defer c.abandon()
	cls, err := cs.s.ListClients(ctx)
	c.end(err, AttrCount.Int(len(cls)))
	return cls, err
}

// TokenStore returns s with a span per call and oauth2.storage.duration
// and oauth2.storage.errors labelled with backend. Spans record the token
// kind, the client ID and the number of grants a revocation ended; never
// a token or its hash. When s is a storage.Cleaner, so is the result, and
// DeleteExpired is observed too. When s is a storage.TokenInfoFiller (the
// memory store), so is the result, and LookupTokenInto is observed too
// (as the operation LookupToken, which it is to the provider): the
// provider validates access tokens with it, without allocating, and
// wrapping the store must not take that away.
func (in *Instrumentation) TokenStore(backend string, s storage.TokenStore) storage.TokenStore {
	ts := &tokenStore{in: in, s: s, backend: AttrBackend.String(backend)}
	cl, isCleaner := s.(storage.Cleaner)
	f, isFiller := s.(storage.TokenInfoFiller)
	switch {
	case isCleaner && isFiller:
		return &cleaningFillingTokenStore{cleaningTokenStore: &cleaningTokenStore{tokenStore: ts, cl: cl}, f: f}
	case isCleaner:
		return &cleaningTokenStore{tokenStore: ts, cl: cl}
	case isFiller:
		return &fillingTokenStore{tokenStore: ts, f: f}
	}
	return ts
}

type tokenStore struct {
	in      *Instrumentation
	s       storage.TokenStore
	backend attribute.KeyValue
}

var (
	_ storage.TokenStore      = (*tokenStore)(nil)
	_ storage.Cleaner         = (*cleaningTokenStore)(nil)
	_ storage.TokenInfoFiller = (*fillingTokenStore)(nil)
	_ storage.Cleaner         = (*cleaningFillingTokenStore)(nil)
	_ storage.TokenInfoFiller = (*cleaningFillingTokenStore)(nil)
)

func (ts *tokenStore) CreateGrant(ctx context.Context, g *storage.Grant, tokens ...storage.Token) error {
	ctx, c := ts.in.begin(ctx, ts.backend, "CreateGrant", AttrClientID.String(g.ClientID), AttrCount.Int(len(tokens)))
	defer c.abandon()
	err := ts.s.CreateGrant(ctx, g, tokens...)
	c.end(err)
	return err
}

func (ts *tokenStore) LookupToken(ctx context.Context, kind storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	ctx, c := ts.in.begin(ctx, ts.backend, "LookupToken", AttrTokenKind.String(kind.String()))
	defer c.abandon()
	ti, err := ts.s.LookupToken(ctx, kind, ref)
	if err == nil && ti != nil {
		c.end(nil, AttrClientID.String(ti.Grant.ClientID))
	} else {
		c.end(err)
	}
	return ti, err
}

// lookupTokenInto is LookupTokenInto of f, the store ts wraps, observed
// as the operation LookupToken.
func (ts *tokenStore) lookupTokenInto(ctx context.Context, f storage.TokenInfoFiller, kind storage.TokenKind, ref storage.TokenRef, now time.Time, dst *storage.TokenInfo) error {
	ctx, c := ts.in.begin(ctx, ts.backend, "LookupToken", AttrTokenKind.String(kind.String()))
	defer c.abandon()
	err := f.LookupTokenInto(ctx, kind, ref, now, dst)
	if err == nil {
		c.end(nil, AttrClientID.String(dst.Grant.ClientID))
	} else {
		c.end(err)
	}
	return err
}

func (ts *tokenStore) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	// x.ClientID is the authenticated client the provider exchanges for.
	ctx, c := ts.in.begin(ctx, ts.backend, "ExchangeToken",
		AttrTokenKind.String(x.Kind.String()), AttrClientID.String(x.ClientID), AttrCount.Int(len(x.Issue)))
	defer c.abandon()
	// An error of the caller's Check (a wrong user_id, scope, binding or
	// PKCE verifier) is the client's mistake, not the backend's: the store
	// worked. Remember it, to tell it from a failure.
	var checkErr error
	if check := x.Check; check != nil {
		x.Check = func(g *storage.Grant) error {
			checkErr = check(g)
			return checkErr
		}
	}
	g, err := ts.s.ExchangeToken(ctx, x)
	if err != nil && checkErr != nil && errors.Is(err, checkErr) {
		c.endAs(OutcomeCheckFailed)
	} else {
		c.end(err)
	}
	return g, err
}

func (ts *tokenStore) ExtendToken(ctx context.Context, ref storage.TokenRef, expiresAt time.Time) error {
	ctx, c := ts.in.begin(ctx, ts.backend, "ExtendToken")
	defer c.abandon()
	err := ts.s.ExtendToken(ctx, ref, expiresAt)
	c.end(err)
	return err
}

func (ts *tokenStore) RevokeGrant(ctx context.Context, grantID string) error {
	ctx, c := ts.in.begin(ctx, ts.backend, "RevokeGrant")
	defer c.abandon()
	err := ts.s.RevokeGrant(ctx, grantID)
	c.end(err)
	return err
}

func (ts *tokenStore) RevokeUser(ctx context.Context, userID string) (int, error) {
	ctx, c := ts.in.begin(ctx, ts.backend, "RevokeUser")
	defer c.abandon()
	n, err := ts.s.RevokeUser(ctx, userID)
	c.end(err, AttrCount.Int(n))
	return n, err
}

func (ts *tokenStore) RevokeClient(ctx context.Context, clientID string) (int, error) {
	ctx, c := ts.in.begin(ctx, ts.backend, "RevokeClient", AttrClientID.String(clientID))
	defer c.abandon()
	n, err := ts.s.RevokeClient(ctx, clientID)
	c.end(err, AttrCount.Int(n))
	return n, err
}

// cleaningTokenStore is a tokenStore over a store that is also a Cleaner.
type cleaningTokenStore struct {
	*tokenStore
	cl storage.Cleaner
}

func (cs *cleaningTokenStore) DeleteExpired(ctx context.Context, limit int) (int, error) {
	ctx, c := cs.in.begin(ctx, cs.backend, "DeleteExpired")
	defer c.abandon()
	n, err := cs.cl.DeleteExpired(ctx, limit)
	c.end(err, AttrCount.Int(n))
	return n, err
}

// fillingTokenStore is a tokenStore over a store that is also a
// TokenInfoFiller.
type fillingTokenStore struct {
	*tokenStore
	f storage.TokenInfoFiller
}

func (fs *fillingTokenStore) LookupTokenInto(ctx context.Context, kind storage.TokenKind, ref storage.TokenRef, now time.Time, dst *storage.TokenInfo) error {
	return fs.lookupTokenInto(ctx, fs.f, kind, ref, now, dst)
}

// cleaningFillingTokenStore is a tokenStore over a store that is both a
// Cleaner and a TokenInfoFiller.
type cleaningFillingTokenStore struct {
	*cleaningTokenStore
	f storage.TokenInfoFiller
}

func (fs *cleaningFillingTokenStore) LookupTokenInto(ctx context.Context, kind storage.TokenKind, ref storage.TokenRef, now time.Time, dst *storage.TokenInfo) error {
	return fs.lookupTokenInto(ctx, fs.f, kind, ref, now, dst)
}

// Limiter returns l with a span per call and oauth2.storage.duration and
// oauth2.storage.errors labelled with backend. Spans record whether the
// key is throttled, never the key (it may hold a username). When l is a
// storage.BatchLimiter (the Redis Limiter), so is the result, and
// ReserveAll and RefundAll are observed too, with the number of keys:
// the provider reserves an attempt's keys in one call of such a limiter,
// one round trip, and wrapping it must not turn that into one per key.
func (in *Instrumentation) Limiter(backend string, l storage.Limiter) storage.Limiter {
	lm := &limiter{in: in, l: l, backend: AttrBackend.String(backend)}
	if b, ok := l.(storage.BatchLimiter); ok {
		return &batchLimiter{limiter: lm, b: b}
	}
	return lm
}

// batchLimiter is a limiter over a Limiter that is also a BatchLimiter.
type batchLimiter struct {
	*limiter
	b storage.BatchLimiter
}

var _ storage.BatchLimiter = (*batchLimiter)(nil)

func (bl *batchLimiter) ReserveAll(ctx context.Context, keys []storage.LimitKey) (int, time.Duration, error) {
	ctx, c := bl.in.begin(ctx, bl.backend, "ReserveAll", AttrCount.Int(len(keys)))
	defer c.abandon()
	refused, d, err := bl.b.ReserveAll(ctx, keys)
	c.end(err, AttrThrottled.Bool(err == nil && refused >= 0))
	return refused, d, err
}

func (bl *batchLimiter) RefundAll(ctx context.Context, keys []storage.LimitKey) error {
	ctx, c := bl.in.begin(ctx, bl.backend, "RefundAll", AttrCount.Int(len(keys)))
	defer c.abandon()
	err := bl.b.RefundAll(ctx, keys)
	c.end(err)
	return err
}

type limiter struct {
	in      *Instrumentation
	l       storage.Limiter
	backend attribute.KeyValue
}

var _ storage.Limiter = (*limiter)(nil)

// AttrThrottled records whether a Limiter call left its key throttled.
const AttrThrottled = attribute.Key("oauth2.throttled")

func (lm *limiter) Throttled(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	ctx, c := lm.in.begin(ctx, lm.backend, "Throttled")
	defer c.abandon()
	d, err := lm.l.Throttled(ctx, key, r)
	c.end(err, AttrThrottled.Bool(d > 0))
	return d, err
}

func (lm *limiter) Fail(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	ctx, c := lm.in.begin(ctx, lm.backend, "Fail")
	defer c.abandon()
	d, err := lm.l.Fail(ctx, key, r)
	c.end(err, AttrThrottled.Bool(d > 0))
	return d, err
}

func (lm *limiter) Reserve(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	ctx, c := lm.in.begin(ctx, lm.backend, "Reserve")
	defer c.abandon()
	d, err := lm.l.Reserve(ctx, key, r)
	c.end(err, AttrThrottled.Bool(d > 0))
	return d, err
}

func (lm *limiter) Refund(ctx context.Context, key string, r storage.Rate) error {
	ctx, c := lm.in.begin(ctx, lm.backend, "Refund")
	defer c.abandon()
	err := lm.l.Refund(ctx, key, r)
	c.end(err)
	return err
}
