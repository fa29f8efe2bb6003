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
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

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
	// secrets at once, then one more per minute, for secrets a person
	// chose. Generated secrets ([storage.NewClientSecret]) cannot be
	// guessed and unknown clients have none: neither is throttled.
	DefaultClientRate = storage.Rate{Burst: 10, Every: time.Minute}
)

// throttler counts failed attempts with Config.Limiter. Each attempt
// reserves a failure under its keys before it is judged (atomically in
// the limiter, so that concurrent guesses cannot all slip past the count)
// and is refunded when it succeeds; attempts are never serialized. An
// attempt refused while others under its key are in flight in this
// process waits for them to end rather than answering 429, since their
// reservations are mostly refunded. It is nil when throttling is
// disabled.
type throttler struct {
	limiter storage.Limiter
	// batch is limiter as a storage.BatchLimiter, nil when it is none.
	batch storage.BatchLimiter
	// inProcess is set when limiter is a storage/memory Limiter, which
	// ignores contexts and cannot hang.
	inProcess bool
	user      storage.Rate
	ip        storage.Rate
	client    storage.Rate
	pending   *pending
	// maxWait bounds how long a refused attempt waits for those in
	// flight under its key (maxPendingWait).
	maxWait time.Duration
	// pwIP and clientIP remember the per-IP keys of recent addresses;
	// nil, the keys are derived every time.
	pwIP, clientIP *ipKeyCache
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
	batch, _ := cfg.Limiter.(storage.BatchLimiter)
	_, inProcess := cfg.Limiter.(*memory.Limiter)
	return &throttler{
		limiter:   cfg.Limiter,
		batch:     batch,
		inProcess: inProcess,
		user:      cfg.UserRate,
		ip:        cfg.IPRate,
		client:    cfg.ClientRate,
		pending:   newPending(),
		maxWait:   maxPendingWait,
		pwIP:      newIPKeyCache(),
		clientIP:  newIPKeyCache(),
	}
}

// ipKeySlots is the number of per-IP keys an ipKeyCache remembers at
// most.
const ipKeySlots = 1024

// ipKeyCache remembers the per-IP limiter keys of one kind (the caller
// keeps kinds apart) for recent client addresses. One address sends many
// attempts (a user's device, a NAT, an office proxy), and deriving its
// key costs a SHA-256 and an allocation on every password grant. It is
// lock-free and bounded: one slot per hash of the address, the last
// writer wins.
type ipKeyCache struct {
	seed  maphash.Seed
	slots [ipKeySlots]atomic.Pointer[ipKey]
}

// ipKey is the limiter key of one address.
type ipKey struct {
	ip  netip.Addr
	key string
}

func newIPKeyCache() *ipKeyCache {
	return &ipKeyCache{seed: maphash.MakeSeed()}
}

// key returns hashKey(kind, ip), remembered in c unless c is nil.
func (c *ipKeyCache) key(kind string, ip netip.Addr) string {
	if c == nil {
		return hashKey(kind, ip)
	}
	slot := &c.slots[maphash.Comparable(c.seed, ip)%ipKeySlots]
	if e := slot.Load(); e != nil && e.ip == ip {
		return e.key
	}
	key := hashKey(kind, ip)
	slot.Store(&ipKey{ip: ip, key: key})
	return key
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

// unsafeString is a string view of b without a copy: b must not be
// written again while the string (or any part of it) is in use, either
// because the view does not outlive the call it is made for or because
// nothing writes b any more.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b)) // #nosec G103 -- callers never write b while the view is in use (see the doc comment)
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
// the per-IP key, then the per-(username, IP) key, which counts every
// spelling of a username that a user database may take for the same one
// as one ([foldUsername]), so that respelling it does not buy an attacker
// a fresh budget.
func (t *throttler) passwordKeys(username string, ip netip.Addr) [2]storage.LimitKey {
	return [2]storage.LimitKey{
		{Key: t.pwIP.key("pw-ip", ip), Rate: t.ip},
		{Key: hashKey("pw-user", ip, foldUsername(username)), Rate: t.user},
	}
}

// foldUsername is the form of username its throttling key is made of,
// so that the spellings a user database may take for one username count
// as one: without surrounding white space (which MySQL's PAD SPACE
// collations and many apps ignore), each run of white space inside it as
// one space (as LDAP compares uids: see collapseSpace), and, for a
// username that is not all
// ASCII, without accents, invisible format characters (U+200B, U+FEFF,
// the soft hyphen, …) and variation selectors, with the letters that have
// no decomposition but that accent-insensitive collations take for a
// base letter (ø, ł, đ, ħ, ŧ, ı) as that letter, in compatibility form
// (the fullwidth "ｊｏｈｎｄｏｅ" as "johndoe") and fully case-folded (K,
// k and the Kelvin sign; Σ, σ and ς; ß and "ss"), as MySQL's default
// collation, strings.EqualFold and case-insensitive collations compare
// them. Before all that, the runes that the Unicode collation algorithm
// (CLDR's root order, which ICU and MySQL 8's utf8mb4_0900_ai_ci follow)
// ignores or, case- and accent-insensitively, takes for ASCII letters,
// and which the rest would keep apart, are replaced (ucaFold: C1 controls
// and the Arabic tatweel go; ð is d, æ is ae, the insular letters and the
// combining Latin letters are their letters). Merging more spellings than
// the user database does only shares an attacker's own budget; for a
// username of ASCII letters it is strings.ToLower, so keys already in a
// shared limiter stay the same.
func foldUsername(username string) string {
	username = strings.TrimSpace(username)
	for i := 0; i < len(username); i++ {
		if username[i] >= utf8.RuneSelf {
			f := foldChain(prefoldUCA(username))
			// The chain can make a rune of ucaFold (U+10783, a modifier
			// letter small ae, becomes Æ): replace it and fold again.
			if g := prefoldUCA(f); g != f {
				f = foldChain(g)
			}
			return collapseSpace(f)
		}
	}
	return collapseSpace(strings.ToLower(username))
}

// collapseSpace replaces each run of white space inside s, which has
// none at either end, by one space: LDAP compares the usernames of a
// directory (uid, cn: caseIgnoreMatch) with insignificant space handling
// (RFC 4518 §2.6.1), where "john  doe" and "john\tdoe" are "john doe",
// and many apps collapse what was typed the same way. A username without
// such a run is s itself.
func collapseSpace(s string) string {
	space := false // the last rune was a space
	for _, r := range s {
		if unicode.IsSpace(r) {
			if r != ' ' || space {
				return strings.Join(strings.Fields(s), " ")
			}
			space = true
		} else {
			space = false
		}
	}
	return s
}

// foldChain is foldUsername's fold of a username that is not all ASCII,
// after prefoldUCA.
func foldChain(username string) string {
	fold := usernameFolds.Get().(transform.Transformer)
	folded, _, err := transform.String(fold, username) // resets fold first
	usernameFolds.Put(fold)
	if err != nil { // invalid UTF-8 is refused before; be safe
		folded = username
	}
	return strings.TrimSpace(folded)
}

// prefoldUCA replaces in s the runes of ucaFold by what they stand for,
// and drops a middle dot after an l: the collation's one contraction to
// an ASCII letter (l· is l, Catalan's l·l), which a table of runes alone
// cannot hold. A run of dots goes whole, so that folding is idempotent.
func prefoldUCA(s string) string {
	var b []byte
	last := rune(0) // the last rune kept
	for i, r := range s {
		rep, ok := ucaFold[r]
		if !ok && (r == '\u00b7' || r == '\u0387') && (last == 'l' || last == 'L') {
			rep, ok = "", true // the contraction l· (DUCET 006C 00B7) collates as l
		}
		if !ok {
			last = r
			if b != nil {
				b = utf8.AppendRune(b, r)
			}
			continue
		}
		if rep != "" {
			last = rune(rep[len(rep)-1])
		}
		if b == nil {
			b = append(make([]byte, 0, len(s)), s[:i]...)
		}
		b = append(b, rep...)
	}
	if b == nil {
		return s
	}
	return string(b)
}

// usernameFolds recycles the transformer chains of foldUsername: a chain
// is not safe for concurrent use, and making one costs ~26 KB. Case
// folding comes before the marks go: it turns some of them into letters
// (U+0345 into ι); then one letter for each case orbit (x/text folds
// Cherokee's two cases apart).
var usernameFolds = sync.Pool{New: func() any {
	return transform.Chain(norm.NFKD, cases.Fold(), norm.NFKD, runes.Remove(ignoredInUsernames),
		runes.Map(baseLetter), runes.Map(caseOrbitRep), norm.NFKC)
}}

// caseOrbitRep maps a non-ASCII rune to one rune of its simple case
// orbit (unicode.SimpleFold), the same for every rune of the orbit: the
// lower-case ASCII letter when the orbit has one (the Kelvin sign is k),
// else its smallest rune. An ASCII rune is itself.
func caseOrbitRep(r rune) rune {
	if r < utf8.RuneSelf {
		return r
	}
	rep := r
	for o := unicode.SimpleFold(r); o != r; o = unicode.SimpleFold(o) {
		if o < utf8.RuneSelf {
			return unicode.ToLower(o)
		}
		rep = min(rep, o)
	}
	return rep
}

// ignoredInUsernames are the runes foldUsername drops: combining marks
// (accents, once decomposed), format characters and the other default
// ignorable code points, and variation selectors.
var ignoredInUsernames = runes.Predicate(func(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
})

// baseLetter maps the letters with no Unicode decomposition that
// accent-insensitive collations compare as a base letter to it.
func baseLetter(r rune) rune {
	switch r {
	case 'ø', 'Ø':
		return 'o'
	case 'ł', 'Ł':
		return 'l'
	case 'đ', 'Đ':
		return 'd'
	case 'ħ', 'Ħ':
		return 'h'
	case 'ŧ', 'Ŧ':
		return 't'
	case 'ı':
		return 'i'
	}
	return r
}

// clientKeys are the keys of a client secret attempt for client id from
// ip: the per-(client ID, IP) key, then the per-IP key, which stops
// guessing secrets across many client IDs from one address.
func (t *throttler) clientKeys(id string, ip netip.Addr) [2]storage.LimitKey {
	return [2]storage.LimitKey{
		{Key: hashKey("client", ip, id), Rate: t.client},
		{Key: t.clientIP.key("client-ip", ip), Rate: t.ip},
	}
}

// attempt is one throttled judgement in progress: begun by
// [throttler.begin], which reserved a failure under each key, and ended by
// [attempt.end], which refunds them unless the caller counted the attempt
// as failed with [attempt.fail].
type attempt struct {
	t    *throttler // nil when not throttling
	ctx  context.Context
	keys [2]storage.LimitKey
	// shards are the keys' shards of t.pending, found once.
	shards [2]*pendingShard
	failed bool
}

// beginPassword begins the judgement of a password for username sent
// from client address ip (per-IP and per-(username, IP) keys).
func (p *Provider) beginPassword(ctx context.Context, ip netip.Addr, username string) (attempt, *Error) {
	if p.throttle == nil {
		return attempt{}, nil
	}
	return p.throttle.begin(ctx, p.throttle.passwordKeys(username, ip))
}

// beginClient begins the judgement of a secret for client id sent from
// client address ip (per-(client ID, IP) and per-IP keys).
func (p *Provider) beginClient(ctx context.Context, id string, ip netip.Addr) (attempt, *Error) {
	if p.throttle == nil {
		return attempt{}, nil
	}
	return p.throttle.begin(ctx, p.throttle.clientKeys(id, ip))
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

// begin reserves a failure under every key: when any must wait, the
// attempt is refused with 429 and what was reserved refunded. A limiter
// outage is a 503: throttling fails closed.
func (t *throttler) begin(ctx context.Context, keys [2]storage.LimitKey) (attempt, *Error) {
	var deadline <-chan time.Time // set by the first wait
	shards := [2]*pendingShard{t.pending.shard(keys[0].Key), t.pending.shard(keys[1].Key)}
	// retries counts the tries made again at once because an attempt
	// ended meanwhile: ends counts the attempts of a whole shard (a 64th
	// of all keys), so under load most such endings are other keys', and
	// a refused attempt must not spin on the limiter.
	retries := 0
	for {
		ends := endsOf(shards)
		// In flight from before its reservation to after its refund, so
		// that an attempt refused meanwhile always finds the ones whose
		// reservations may yet be refunded.
		for i, k := range keys {
			shards[i].add(k.Key)
		}
		refused, wait, err := t.reserveInFlight(ctx, keys, shards)
		if err == nil && refused < 0 {
			return attempt{t: t, ctx: ctx, keys: keys, shards: shards}, nil
		}
		// A slot this attempt reserved and gave back when another key
		// refused it may have refused another attempt meanwhile, which
		// must try again: asked key by key, the keys before the one that
		// refused (or failed) were reserved; a BatchLimiter does not say
		// which it reserved and took back, so any but the one that
		// refused may have been.
		for i, k := range keys {
			gaveBack := i < refused
			if t.batch != nil {
				gaveBack = err == nil && i != refused
			}
			shards[i].leave(k.Key, gaveBack)
		}
		if err != nil {
			return attempt{}, errUnavailable(err)
		}
		// Refused: if attempts under that key are in flight here, their
		// reservations may yet be refunded; try again when one is, or
		// when the last ends, for at most maxPendingWait.
		w := shards[refused].ended(keys[refused].Key)
		// One that ended (and may have been refunded) while this one
		// reserved closed no channel of ours: try again at once.
		if endsOf(shards) != ends && retries < maxImmediateRetries {
			retries++
			continue
		}
		if w == nil { // nobody in flight to wait for
			return attempt{}, errThrottled(wait)
		}
		if deadline == nil {
			deadline = time.After(t.maxWait)
		}
		select {
		case <-w.ch:
			switch {
			case w.gaveBack:
				// A slot given back by an attempt refused by its other
				// key: waiters under a spent key of their own would pass
				// it around for ever (each that takes it gives it back,
				// waking the others), so such wake-ups count as tries at
				// once.
				if retries >= maxImmediateRetries {
					return attempt{}, errThrottled(wait)
				}
				retries++
			case !w.freed:
				// Woken with nothing freed under the key (the last in
				// flight failed, or was refused and left): nothing to try
				// again for. A refund under it since this attempt looked
				// for those in flight would have freed the wake-up, and
				// one before moved the count of ends, checked before
				// waiting (while tries at once were left). Attempts that
				// ended since under other keys of the shards do not
				// matter: counting them, in a busy process each attempt
				// of a flood refused under one key reserved again
				// whenever another was refused and left last, about
				// n*n/2 reservations for n attempts.
				return attempt{}, errThrottled(wait)
			}
		case <-deadline:
			return attempt{}, errThrottled(wait)
		case <-ctx.Done():
			return attempt{}, errUnavailable(ctx.Err())
		}
	}
}

// reserveInFlight is reserve for an attempt counted in flight under keys,
// in shards: when the limiter panics (a bug; net/http recovers and serves
// on), the attempt leaves the keys, or it would be in flight for ever and
// every attempt refused under them would wait maxWait for it.
func (t *throttler) reserveInFlight(ctx context.Context, keys [2]storage.LimitKey, shards [2]*pendingShard) (refused int, wait time.Duration, err error) {
	returned := false
	defer func() {
		if !returned {
			for i, k := range keys {
				shards[i].leave(k.Key, false)
			}
		}
	}()
	refused, wait, err = t.reserve(ctx, keys)
	returned = true
	return refused, wait, err
}

// maxImmediateRetries bounds how many times begin tries again at once,
// without waiting, because an attempt ended while it reserved, or because
// one gave back a slot it had reserved.
const maxImmediateRetries = 4

// maxPendingWait bounds how long an attempt refused while others under its
// key are in flight waits for them, when they are slow to end (a hung user
// database).
const maxPendingWait = 5 * time.Second

// reserve reserves a failure under every key, or under none: it returns
// the index of a key that refused (-1 when none did) and the longest wait
// of the keys, which is the Retry-After of the refusal: a client that
// waits less is refused again, by the other key. A
// [storage.BatchLimiter] does it in one call; any other limiter is asked
// key by key, and when one refuses, the keys after it, which it did not
// reach, are asked how long they must wait.
func (t *throttler) reserve(ctx context.Context, keys [2]storage.LimitKey) (refused int, wait time.Duration, err error) {
	if t.batch != nil {
		// A copy, so that only this path moves the keys to the heap.
		ks := keys
		return t.batch.ReserveAll(ctx, ks[:])
	}
	for i, k := range keys {
		wait, err := t.limiter.Reserve(ctx, k.Key, k.Rate)
		if err != nil || wait > 0 {
			t.refund(ctx, keys[:i])
			if err == nil {
				for _, later := range keys[i+1:] {
					// The attempt is refused whatever this says; a
					// failure here leaves the wait known so far.
					if d, err := t.limiter.Throttled(ctx, later.Key, later.Rate); err == nil {
						wait = max(wait, d)
					}
				}
			}
			return i, wait, err
		}
	}
	return -1, 0, nil
}

// refund takes back the failures reserved under keys, in one call of a
// [storage.BatchLimiter]. A refund that fails (an outage) leaves a
// failure counted that was none, which only shortens the budget until it
// refills; it is not worth failing the request.
func (t *throttler) refund(ctx context.Context, keys []storage.LimitKey) {
	if len(keys) == 0 {
		return
	}
	if !t.inProcess {
		// Refund even if the client has gone, but within detachedTimeout:
		// a limiter that stops answering must not hold the request for
		// ever. The in-process limiter ignores contexts and cannot hang,
		// and skips the cost.
		var cancel context.CancelFunc
		ctx, cancel = detached(ctx)
		defer cancel()
	}
	if t.batch != nil {
		// A copy, so that only this path moves the keys to the heap.
		var ks [2]storage.LimitKey
		_ = t.batch.RefundAll(ctx, ks[:copy(ks[:], keys)])
		return
	}
	for _, k := range keys {
		_ = t.limiter.Refund(ctx, k.Key, k.Rate)
	}
}

// fail keeps the failures the attempt reserved and returns the longest
// wait they leave. A limiter outage is a 503. The wait is read even if
// the client has gone, within detachedTimeout, as refund does: the
// failure is counted all the same, and must be reported.
func (a *attempt) fail(ctx context.Context) (time.Duration, *Error) {
	if a.t == nil {
		return 0, nil
	}
	a.failed = true
	if !a.t.inProcess {
		var cancel context.CancelFunc
		ctx, cancel = detached(ctx)
		defer cancel()
	}
	var wait time.Duration
	for _, k := range a.keys {
		d, err := a.t.limiter.Throttled(ctx, k.Key, k.Rate)
		if err != nil {
			return 0, errUnavailable(err)
		}
		wait = max(wait, d)
	}
	return wait, nil
}

// end refunds the failures reserved for an attempt that did not fail,
// then lets attempts waiting on its keys try again. It may be called more
// than once. The attempt ends even if the limiter panics in the refund.
func (a *attempt) end() {
	if a.t == nil {
		return
	}
	t := a.t
	a.t = nil
	defer func() {
		for i, k := range a.keys {
			a.shards[i].done(k.Key, !a.failed)
		}
	}()
	if !a.failed {
		t.refund(a.ctx, a.keys[:])
	}
}

// pendingShards is the number of locks the in-flight counts of a
// throttler are spread over.
const pendingShards = 64

// pending counts the attempts in flight per key in this process.
type pending struct {
	seed   maphash.Seed
	shards [pendingShards]pendingShard
}

// pendingShard is one lock's worth of keys.
type pendingShard struct {
	mu sync.Mutex
	m  map[string]*flight
	// ends counts the attempts that have ended under the shard's keys.
	ends atomic.Uint64
	_    [40]byte // keeps neighbouring shards' locks off one cache line
}

// flight is the attempts in flight under one key: how many, and a wake-up
// for when one is refunded or the last ends (when a waiting attempt may
// succeed, or must give up), made only when an attempt waits for it.
type flight struct {
	n     int
	ended *wakeUp
}

// wakeUp is what attempts waiting under a key wait on: ch is closed when
// one in flight under it ends or gives its reservation back. Set before:
// freed when it was refunded or gave its reservation back, gaveBack when
// the latter (a refused attempt, which judged nothing).
type wakeUp struct {
	ch              chan struct{}
	freed, gaveBack bool
}

// flights recycles flights that nobody uses any more.
var flights = sync.Pool{New: func() any { return new(flight) }}

func newPending() *pending {
	p := &pending{seed: maphash.MakeSeed()}
	for i := range p.shards {
		p.shards[i].m = make(map[string]*flight)
	}
	return p
}

func (p *pending) shard(key string) *pendingShard {
	return &p.shards[maphash.String(p.seed, key)%pendingShards]
}

// add counts one more attempt in flight under key, one of sh's keys.
func (sh *pendingShard) add(key string) {
	sh.mu.Lock()
	f := sh.m[key]
	if f == nil {
		f = flights.Get().(*flight)
		sh.m[key] = f
	}
	f.n++
	sh.mu.Unlock()
}

// endsOf returns how many attempts have ended under the shards of an
// attempt's keys.
func endsOf(shards [2]*pendingShard) uint64 {
	return shards[0].ends.Load() + shards[1].ends.Load()
}

// done counts one attempt under key, one of sh's keys, as ended,
// refunded or not, and wakes the waiters when it was refunded or was the
// last.
func (sh *pendingShard) done(key string, refunded bool) { sh.release(key, refunded, true) }

// leave takes an attempt whose reservation was refused off key, one of
// sh's keys, without counting it as ended (it judged nothing); it wakes
// the waiters when it was the last, or when it had reserved key and gave
// the reservation back (gaveBack), which frees a slot.
func (sh *pendingShard) leave(key string, gaveBack bool) { sh.release(key, gaveBack, false) }

// release is done, or leave when ended is false.
func (sh *pendingShard) release(key string, refunded, ended bool) {
	sh.mu.Lock()
	if ended {
		// Counted under the lock, and before waking anyone: whoever finds
		// the key gone from the map, or is woken, finds the count moved.
		sh.ends.Add(1)
	}
	f := sh.m[key]
	f.n--
	if f.ended != nil && (refunded || f.n == 0) {
		f.ended.freed = refunded
		f.ended.gaveBack = refunded && !ended
		close(f.ended.ch)
		f.ended = nil
	}
	if f.n == 0 {
		delete(sh.m, key)
		flights.Put(f)
	}
	sh.mu.Unlock()
}

// ended returns the wake-up of an attempt in flight under key ending or
// giving its reservation back, or nil when none is in flight.
func (sh *pendingShard) ended(key string) *wakeUp {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	f := sh.m[key]
	if f == nil {
		return nil
	}
	if f.ended == nil {
		f.ended = &wakeUp{ch: make(chan struct{})}
	}
	return f.ended
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
	if secs, ok := RetryAfterSeconds(err); ok {
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
}

// RetryAfterSeconds is [RetryAfter] in the whole seconds of the
// Retry-After header [SetRetryAfter] sets: rounded up, at least 1, for
// an answer in another form (a login form's redirect, say).
func RetryAfterSeconds(err error) (secs int64, ok bool) {
	wait, ok := RetryAfter(err)
	if !ok {
		return 0, false
	}
	return max(int64((wait+time.Second-1)/time.Second), 1), true
}

// noSecretRefused reports a client that sent no secret and may not go
// without one: c is nil for an unknown client, else confidential or a
// disabled public client. Nothing is counted: no secret was guessed.
func (p *Provider) noSecretRefused(ctx context.Context, ip netip.Addr, c *storage.Client) {
	ev := Event{Type: EventClientAuthFailed, IP: ip, Reason: "wrong client secret or unknown client"}
	if c != nil {
		ev.ClientID = c.ID
		ev.Reason = "no client secret for a confidential client"
		if c.Public {
			ev.Reason = "client disabled"
		}
	}
	p.emit(ctx, ev)
}

// clientSecretChecked counts and reports a failed client secret (ok
// false), sent from client address ip, under attempt a, and counts and
// reports the right secret of a disabled client alike: refunded, it would
// answer the next attempt differently from a wrong guess (401 rather than
// 429 at the budget's last slot), and tell whoever guesses at a disabled
// client's secret which guess was right. c is nil for an unknown client.
func (p *Provider) clientSecretChecked(ctx context.Context, ip netip.Addr, a *attempt, c *storage.Client, ok bool) *Error {
	if ok && !c.Disabled {
		return nil // the common case: nothing to report
	}
	ev := Event{Type: EventClientAuthFailed, IP: ip, Reason: "wrong client secret or unknown client"}
	if c != nil {
		ev.ClientID = c.ID
	}
	if ok {
		ev.Reason = "client disabled"
	}
	return p.failed(ctx, a, ev)
}
