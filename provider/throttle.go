package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// CodeSlowDown is the error code of a throttled request (429). RFC 8628
// §3.5 defines it for a client that polls too fast; no OAuth error code
// fits repeated failed attempts better, and temporarily_unavailable is
// kept for outages (503) so that a client can tell the two apart.
const CodeSlowDown = "slow_down"

// Default throttling rates, applied by [New] to zero rates of [Config].
var (
	// DefaultUserRate: per (username, client IP), 5 failed passwords at
	// once, then one more per minute.
	DefaultUserRate = storage.Rate{Burst: 5, Every: time.Minute}
	// DefaultIPRate: per client IP (per /64 for IPv6), 30 failed
	// passwords at once, then one more every 10 seconds (whatever the
	// usernames), which stops password spraying from one address; and,
	// counted apart, as many failed client secrets (whatever the client
	// IDs).
	DefaultIPRate = storage.Rate{Burst: 30, Every: 10 * time.Second}
	// DefaultClientRate: per (client ID, client IP), 10 failed client
	// secrets at once, then one more per minute. Generated secrets
	// ([storage.NewClientSecret]) cannot be guessed and are not throttled.
	DefaultClientRate = storage.Rate{Burst: 10, Every: time.Minute}
)

// throttler counts failed attempts with Config.Limiter and serializes
// the judgement of attempts under the same key in this process, so that
// concurrent guesses cannot all slip past the check before any of them
// is counted. It is nil when throttling is disabled.
type throttler struct {
	limiter storage.Limiter
	user    storage.Rate
	ip      storage.Rate
	client  storage.Rate
	gates   *gates
}

// limitKey is one throttling key with its rate.
type limitKey struct {
	key  string
	rate storage.Rate
}

// validateThrottle checks the throttling fields of cfg.
func validateThrottle(cfg *Config) []error {
	var errs []error
	for _, r := range []struct {
		name string
		rate storage.Rate
	}{{"UserRate", cfg.UserRate}, {"IPRate", cfg.IPRate}, {"ClientRate", cfg.ClientRate}} {
		if r.rate != (storage.Rate{}) && (r.rate.Burst < 1 || r.rate.Every <= 0) {
			errs = append(errs, fmt.Errorf("%s: Burst and Every must both be positive, or both zero for the default", r.name))
		}
	}
	return errs
}

// newThrottler applies the throttling defaults to cfg and returns the
// throttler, or nil when cfg disables throttling.
func newThrottler(cfg *Config) *throttler {
	if cfg.UserRate == (storage.Rate{}) {
		cfg.UserRate = DefaultUserRate
	}
	if cfg.IPRate == (storage.Rate{}) {
		cfg.IPRate = DefaultIPRate
	}
	if cfg.ClientRate == (storage.Rate{}) {
		cfg.ClientRate = DefaultClientRate
	}
	if cfg.DisableThrottling {
		return nil
	}
	if cfg.Limiter == nil {
		cfg.Limiter = memory.NewLimiter(memory.LimiterConfig{Now: cfg.Now})
	}
	return &throttler{
		limiter: cfg.Limiter,
		user:    cfg.UserRate,
		ip:      cfg.IPRate,
		client:  cfg.ClientRate,
		gates:   newGates(),
	}
}

// hashKey makes a limiter key of a kind, its parts and a client address
// (the last part, see appendIPKeyPart): the kind in the clear, then 128
// bits of SHA-256 of the parts, so that no username or client ID is
// stored in a shared limiter. The hash is not keyed: it hides
// identifiers from a casual reader of the limiter's store, not from
// someone who guesses them.
func hashKey(kind string, ip netip.Addr, parts ...string) string {
	// The hashed bytes are built on the stack (longer input spills to the
	// heap) and hashed in one call; keys must not change across versions,
	// since a shared limiter may hold them (TestThrottleKeysAreStable).
	in := make([]byte, 0, 256)
	in = append(in, "oauth2provider throttle\x00"...)
	in = append(in, kind...)
	for _, s := range parts {
		in = appendKeyPart(in, s)
	}
	var ipBuf [64]byte
	in = appendKeyPart(in, unsafeString(appendIPKeyPart(ipBuf[:0], ip)))
	sum := sha256.Sum256(in)
	out := make([]byte, 0, 64)
	out = append(out, kind...)
	out = append(out, ':')
	out = base64.RawURLEncoding.AppendEncode(out, sum[:16])
	return string(out)
}

// appendKeyPart appends one part of a key's hashed input, length-prefixed
// so that ("ab","c") and ("a","bc") differ.
func appendKeyPart(in []byte, s string) []byte {
	in = append(in, 0)
	in = strconv.AppendInt(in, int64(len(s)), 10)
	in = append(in, ':')
	return append(in, s...)
}

// unsafeString is a read-only string view of b, for a call that neither
// keeps it nor outlives b.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b)) // #nosec G103 -- read-only view; callers do not keep it
}

// appendIPKeyPart appends the part of a key naming a client address: an
// IPv4 address, or the /64 of an IPv6 one (a single host commonly holds a
// whole /64). The zero Addr is "unknown", shared by every request whose
// address could not be read.
func appendIPKeyPart(dst []byte, ip netip.Addr) []byte {
	switch {
	case !ip.IsValid():
		return append(dst, "unknown"...)
	case ip.Is6():
		pfx, _ := ip.Prefix(64)
		return pfx.AppendTo(dst)
	}
	return ip.AppendTo(dst)
}

// passwordKeys are the keys of a password attempt for username from ip:
// the per-IP key first (its gate serializes the judgement), then the
// per-(username, IP) key. Usernames are compared case-insensitively, so
// that changing case does not buy an attacker a fresh budget.
func (t *throttler) passwordKeys(username string, ip netip.Addr) [2]limitKey {
	return [2]limitKey{
		{key: hashKey("pw-ip", ip), rate: t.ip},
		{key: hashKey("pw-user", ip, strings.ToLower(username)), rate: t.user},
	}
}

// clientKeys are the keys of a client secret attempt for client id from
// ip: the per-(client ID, IP) key first (its gate serializes the
// judgement), then the per-IP key, which stops guessing secrets across
// many client IDs from one address.
func (t *throttler) clientKeys(id string, ip netip.Addr) [2]limitKey {
	return [2]limitKey{
		{key: hashKey("client", ip, id), rate: t.client},
		{key: hashKey("client-ip", ip), rate: t.ip},
	}
}

// attempt is one throttled judgement in progress: begun by
// [throttler.begin], ended by [attempt.end] after the caller counted a
// failure with [attempt.fail] or not.
type attempt struct {
	t    *throttler
	keys [2]limitKey
	gate *gate // held until end; nil when not throttling or ended
}

// beginPassword begins the judgement of a password for username sent
// with r (per-IP and per-(username, IP) keys).
func (p *Provider) beginPassword(r *http.Request, username string) (attempt, *Error) {
	if p.throttle == nil {
		return attempt{}, nil
	}
	return p.throttle.begin(r.Context(), p.throttle.passwordKeys(username, p.ClientIP(r)))
}

// beginClient begins the judgement of a secret for client id sent with r
// (per-(client ID, IP) and per-IP keys).
func (p *Provider) beginClient(r *http.Request, id string) (attempt, *Error) {
	if p.throttle == nil {
		return attempt{}, nil
	}
	return p.throttle.begin(r.Context(), p.throttle.clientKeys(id, p.ClientIP(r)))
}

// failed counts the failure of attempt a, reports ev, and reports
// EventThrottled when the failure leaves a key throttled. A limiter
// outage is a 503.
func (p *Provider) failed(ctx context.Context, a *attempt, ev Event) *Error {
	wait, e := a.fail(ctx)
	if e != nil {
		return e
	}
	p.emit(ctx, ev)
	if wait > 0 {
		ev.Type, ev.RetryAfter = EventThrottled, wait
		p.emit(ctx, ev)
	}
	return nil
}

// begin waits for the gate of keys[0], then checks every key: when any
// must wait, the attempt is refused with 429 and the gate released. A
// limiter outage (or ctx ending while waiting for the gate) is a 503:
// throttling fails closed.
func (t *throttler) begin(ctx context.Context, keys [2]limitKey) (attempt, *Error) {
	gt, err := t.gates.lock(ctx, keys[0].key)
	if err != nil {
		return attempt{}, errUnavailable(err)
	}
	var wait time.Duration
	for _, k := range keys {
		d, err := t.limiter.Throttled(ctx, k.key, k.rate)
		if err != nil {
			t.gates.unlock(gt)
			return attempt{}, errUnavailable(err)
		}
		wait = max(wait, d)
	}
	if wait > 0 {
		t.gates.unlock(gt)
		return attempt{}, errThrottled(wait)
	}
	return attempt{t: t, keys: keys, gate: gt}, nil
}

// fail counts a failed attempt under every key and returns the longest
// wait it leaves. A limiter outage is a 503.
func (a *attempt) fail(ctx context.Context) (time.Duration, *Error) {
	if a.t == nil {
		return 0, nil
	}
	var wait time.Duration
	for _, k := range a.keys {
		d, err := a.t.limiter.Fail(ctx, k.key, k.rate)
		if err != nil {
			return 0, errUnavailable(err)
		}
		wait = max(wait, d)
	}
	return wait, nil
}

// end releases the attempt's gate. It may be called more than once.
func (a *attempt) end() {
	if a.gate != nil {
		a.t.gates.unlock(a.gate)
		a.gate = nil
	}
}

// retryAfter is the cause of a throttled *Error: how long to wait.
type retryAfter time.Duration

func (d retryAfter) Error() string {
	return "provider: throttled for " + time.Duration(d).String()
}

// errThrottled is the 429 answer to a throttled attempt.
func errThrottled(wait time.Duration) *Error {
	return &Error{
		Code:        CodeSlowDown,
		Description: "too many failed attempts, try again later",
		Status:      http.StatusTooManyRequests,
		cause:       retryAfter(wait),
	}
}

// RetryAfter reports how long a request refused because of throttling
// must wait before it is tried again: err is an error of
// [Provider.AuthenticateUser] or of an endpoint, as is or wrapped. ok is
// false when err is no throttling error.
func RetryAfter(err error) (wait time.Duration, ok bool) {
	if d, ok := errors.AsType[retryAfter](err); ok {
		return time.Duration(d), true
	}
	return 0, false
}

// SetRetryAfter sets the Retry-After header (RFC 9110 §10.2.3) of a
// response to a throttled request, in whole seconds rounded up, and does
// nothing for any other err. [WriteError] calls it; call it yourself only
// when writing an error of [Provider.AuthenticateUser] in another form.
func SetRetryAfter(h http.Header, err error) {
	wait, ok := RetryAfter(err)
	if !ok {
		return
	}
	secs := int64((wait + time.Second - 1) / time.Second)
	h.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
}

// gateShards is the number of locks the gates of a throttler are spread
// over, so that attempts under different keys seldom wait for each other.
const gateShards = 64

// gates serializes judgements per key within the process. The map of
// gates in use is sharded by a hash of the key; a key's gate lives in one
// shard, so the count of its holders is exact.
type gates struct {
	seed   maphash.Seed
	shards [gateShards]gateShard
}

// gateShard is one lock's worth of gates.
type gateShard struct {
	mu sync.Mutex
	m  map[string]*gate
	_  [48]byte // keeps neighbouring shards' locks off one cache line
}

// newGates returns an empty set of gates.
func newGates() *gates {
	g := &gates{seed: maphash.MakeSeed()}
	for i := range g.shards {
		g.shards[i].m = make(map[string]*gate)
	}
	return g
}

// gate is one key's lock: a one-slot channel, with the number of
// holders and waiters so that it is dropped when nobody uses it.
type gate struct {
	key   string
	shard *gateShard
	ch    chan struct{}
	refs  int
}

// freeGates recycles dropped gates, whose channels are empty.
var freeGates = sync.Pool{New: func() any { return &gate{ch: make(chan struct{}, 1)} }}

// lock takes key's gate, waiting while another attempt holds it, until
// ctx ends, and returns it for unlock. The map holds only keys in use, so
// it needs no eviction.
func (g *gates) lock(ctx context.Context, key string) (*gate, error) {
	sh := &g.shards[maphash.String(g.seed, key)%gateShards]
	sh.mu.Lock()
	gt := sh.m[key]
	if gt == nil {
		gt = freeGates.Get().(*gate)
		gt.key, gt.shard = key, sh
		sh.m[key] = gt
	}
	gt.refs++
	sh.mu.Unlock()

	select {
	case gt.ch <- struct{}{}:
		return gt, nil
	case <-ctx.Done():
		g.release(gt)
		return nil, ctx.Err()
	}
}

// unlock releases gt, which lock returned.
func (g *gates) unlock(gt *gate) {
	<-gt.ch
	g.release(gt)
}

// release drops one reference to gt, and gt itself with the last one:
// nobody else can then reach it, and its channel is empty.
func (g *gates) release(gt *gate) {
	sh := gt.shard
	sh.mu.Lock()
	gt.refs--
	drop := gt.refs == 0
	if drop {
		delete(sh.m, gt.key)
	}
	sh.mu.Unlock()
	if drop {
		gt.key, gt.shard = "", nil
		freeGates.Put(gt)
	}
}

// clientSecretChecked counts and reports a failed client secret (ok
// false) under attempt a, and reports a right secret of a disabled
// client, which is no guess and is not counted. c is nil for an unknown
// client.
func (p *Provider) clientSecretChecked(r *http.Request, a *attempt, c *storage.Client, ok bool) *Error {
	ev := Event{Type: EventClientAuthFailed, IP: p.ClientIP(r)}
	if c != nil {
		ev.ClientID = c.ID
	}
	switch {
	case !ok:
		ev.Reason = "wrong client secret or unknown client"
		return p.failed(r.Context(), a, ev)
	case c.Disabled:
		ev.Reason = "client disabled"
		p.emit(r.Context(), ev)
	}
	return nil
}
