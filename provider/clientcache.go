package provider

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
)

// maxCachedClients bounds a clientCache: past it, clients not yet cached
// are read from the store every time until expired entries are swept.
const maxCachedClients = 4096

// clientCache keeps, for Config.ClientCacheTTL, the clients that
// authenticated at the token endpoint for a grant that exchanges a
// single-use token (refresh_token, authorization_code), so that such a
// grant costs the store one round trip, the exchange, rather than two. It
// is trusted only where the exchange re-checks the grant atomically: a
// client disabled through [Provider.DisableClient] has its grants revoked,
// so a stale entry cannot exchange anything of theirs. Only a client a
// cached entry lets through is served from it; any other answer (a wrong
// secret, a disabled client, a grant type not allowed) is judged again
// on a fresh read, so a stale entry never refuses what the store allows.
//
// Lookups are lock-free (sync.Map), so a cache shared by every request
// adds no lock to the refresh path.
type clientCache struct {
	ttl time.Duration
	m   sync.Map // client ID → *cachedClient
	n   atomic.Int64
	// gen counts drops: a client read before a drop is not cached after
	// it, so that a request racing DisableClient cannot put back what it
	// dropped.
	gen atomic.Uint64
	// sweptAt is when a full cache was last swept (Unix nanoseconds), so
	// that a cache full of live entries is swept at most every ttl/4.
	sweptAt atomic.Int64
	// sweeping is set while one goroutine sweeps a full cache.
	sweeping atomic.Bool
}

// cachedClient is a client as read from the store, and when the entry
// stops being used.
type cachedClient struct {
	c     *storage.Client // never modified
	until time.Time
}

// get returns the client cached under id at now, or nil. An entry made
// later than now (a clock that stepped back) counts as expired too.
func (cc *clientCache) get(id string, now time.Time) *storage.Client {
	v, ok := cc.m.Load(id)
	if !ok {
		return nil
	}
	e := v.(*cachedClient)
	if !now.Before(e.until) || now.Before(e.until.Add(-cc.ttl)) {
		return nil
	}
	return e.c
}

// generation returns the drop count to hand to put for a client read
// from the store after this call.
func (cc *clientCache) generation() uint64 { return cc.gen.Load() }

// put caches, from now, a copy of c (whose ID is cloned, so that the
// entry holds nothing of the request a store may have taken it from),
// which was read from the store after generation returned gen; it caches
// nothing when a drop came since.
func (cc *clientCache) put(c *storage.Client, now time.Time, gen uint64) {
	if cc.gen.Load() != gen {
		return
	}
	cp := *c
	cp.ID = strings.Clone(c.ID)
	e := &cachedClient{c: &cp, until: now.Add(cc.ttl)}
	if _, ok := cc.m.Load(cp.ID); !ok && cc.n.Load() >= maxCachedClients {
		cc.sweep(now)
		if cc.n.Load() >= maxCachedClients {
			return
		}
	}
	if _, loaded := cc.m.Swap(cp.ID, e); !loaded {
		cc.n.Add(1)
	}
	if cc.gen.Load() != gen && cc.m.CompareAndDelete(cp.ID, e) { // a drop raced the Swap
		cc.n.Add(-1)
	}
}

// drop forgets the client with the given ID, and keeps requests that
// read it before from caching it again.
func (cc *clientCache) drop(id string) {
	cc.gen.Add(1)
	if _, loaded := cc.m.LoadAndDelete(id); loaded {
		cc.n.Add(-1)
	}
}

// sweep forgets the entries expired at now. One goroutine at a time
// sweeps, the others go on without waiting, and a cache is swept at most
// every ttl/4: one full of live entries would otherwise be walked on
// every miss.
func (cc *clientCache) sweep(now time.Time) {
	last := cc.sweptAt.Load()
	if t := now.UnixNano(); t >= last && t-last < int64(cc.ttl/4) {
		return
	}
	if !cc.sweeping.CompareAndSwap(false, true) {
		return
	}
	defer cc.sweeping.Store(false)
	cc.sweptAt.Store(now.UnixNano())
	cc.m.Range(func(k, v any) bool {
		if !now.Before(v.(*cachedClient).until) && cc.m.CompareAndDelete(k, v) {
			cc.n.Add(-1)
		}
		return true
	})
}

// servable reports whether c, read from the store or the cache, may
// serve a request for grant type gt made by method from the cache:
// enabled, allowing gt (and, for a code exchange, refresh_token), and
// either public and named alone, or confidential with a generated secret.
// A secret a person chose is never judged from the cache, since failing
// it must be throttled. The secret itself is checked apart: by
// judgeClient on a fresh read, by [servedFromCache] on a hit.
func servable(c *storage.Client, gt, method string) bool {
	if c.Disabled || !c.AllowsGrant(gt) {
		return false
	}
	// A code exchange issues a refresh token only to a client allowed
	// refresh_token: a client without it is read afresh every time, so
	// that allowing it in the store takes effect at once.
	if gt == storage.GrantAuthorizationCode && !c.AllowsGrant(storage.GrantRefreshToken) {
		return false
	}
	if method == authMethodNone {
		return c.Public
	}
	return !c.Public && storage.IsGeneratedSecretHash(c.SecretHash)
}

// servedFromCache reports whether cached client c lets the request
// through on its own: servable, and the secret presented is its own.
// Only a generated secret gets that far, whose SHA-256 check takes no
// argon2id slot and so has no wait for a request's end to stop (see
// [storage.VerifySecretContext]): it needs no context.
func servedFromCache(c *storage.Client, gt, method, secret string) bool {
	return servable(c, gt, method) && (method == authMethodNone || c.VerifySecret(secret))
}
