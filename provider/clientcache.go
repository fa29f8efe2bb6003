package provider

import (
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
	// sweeping is set while one goroutine sweeps a full cache.
	sweeping atomic.Bool
}

// cachedClient is a client as read from the store, and when the entry
// stops being used.
type cachedClient struct {
	c     *storage.Client // never modified
	until time.Time
}

// get returns the client cached under id at now, or nil.
func (cc *clientCache) get(id string, now time.Time) *storage.Client {
	v, ok := cc.m.Load(id)
	if !ok {
		return nil
	}
	e := v.(*cachedClient)
	if !now.Before(e.until) {
		return nil
	}
	return e.c
}

// put caches c, which the caller will not modify, from now.
func (cc *clientCache) put(c *storage.Client, now time.Time) {
	e := &cachedClient{c: c, until: now.Add(cc.ttl)}
	if _, ok := cc.m.Load(c.ID); !ok && cc.n.Load() >= maxCachedClients {
		cc.sweep(now)
		if cc.n.Load() >= maxCachedClients {
			return
		}
	}
	if _, loaded := cc.m.Swap(c.ID, e); !loaded {
		cc.n.Add(1)
	}
}

// drop forgets the client with the given ID.
func (cc *clientCache) drop(id string) {
	if _, loaded := cc.m.LoadAndDelete(id); loaded {
		cc.n.Add(-1)
	}
}

// sweep forgets the entries expired at now; one goroutine at a time
// sweeps, the others go on without waiting.
func (cc *clientCache) sweep(now time.Time) {
	if !cc.sweeping.CompareAndSwap(false, true) {
		return
	}
	defer cc.sweeping.Store(false)
	cc.m.Range(func(k, v any) bool {
		if !now.Before(v.(*cachedClient).until) && cc.m.CompareAndDelete(k, v) {
			cc.n.Add(-1)
		}
		return true
	})
}

// passes reports whether c lets a request through on its own: enabled,
// allowing grant type gt, and either public with no secret presented or
// with a generated secret that secret matches. A secret a person chose
// is never judged from the cache, since failing it must be throttled.
func passes(c *storage.Client, gt, method, secret string) bool {
	if c.Disabled || !c.AllowsGrant(gt) {
		return false
	}
	if method == authMethodNone {
		return c.Public
	}
	return !c.Public && storage.IsGeneratedSecretHash(c.SecretHash) && c.VerifySecret(secret)
}
