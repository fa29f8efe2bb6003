package memory

import (
	"errors"
	"math"
	"sync"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
)

// reclaimPerWrite is how many expired grants a write to a shard reclaims
// at most before doing its own work. More than one, so that reclaiming
// outpaces issuing.
const reclaimPerWrite = 8

// shrinkFloor is the map size under which a shard never rebuilds its grant
// map to give memory back.
const shrinkFloor = 1024

// shard is one lock's worth of grants. A grant and all its tokens live in
// the shard of the grant ID.
type shard struct {
	mu sync.RWMutex
	// grants holds every grant that is live, or revoked but still
	// remembering consumed tokens, or expired and not yet reclaimed.
	grants map[string]*grant
	// peak is the largest len(grants) since the map was last rebuilt.
	peak int
	// byUser and byClient are the heads of the lists of the shard's
	// grants that are not revoked, per user and per client.
	byUser   map[string]*grant
	byClient map[string]*grant
	// userPeak and clientPeak are the largest len(byUser) and
	// len(byClient) since those maps were last rebuilt.
	userPeak, clientPeak int
	// expiries orders the grants by expiry, earliest first.
	expiries expiryHeap
	_        [64]byte // keeps neighbouring shards' locks off one cache line
}

func (sh *shard) init() {
	sh.grants = make(map[string]*grant)
	sh.byUser = make(map[string]*grant)
	sh.byClient = make(map[string]*grant)
}

// grant is a stored grant with its tokens. Times are Unix nanoseconds
// (see toNano). Strings and slices are private copies or immutable.
type grant struct {
	id, clientID, userID, username, binding string
	scopes                                  []string
	code                                    *storage.CodeBinding
	created, expires                        int64

	// live are the tokens that can still be used (some may have expired
	// since the grant was last written), in no particular order.
	live []liveToken
	// used are consumed single-use tokens, kept until they expire to
	// detect reuse.
	used []usedToken
	// index finds the tokens of a grant that holds more than smallGrant
	// of them (a refresh chain rotated many times); nil for the others,
	// which are searched linearly.
	index *tokenIndex

	// Links of the shard's per-user and per-client lists.
	userPrev, userNext, clientPrev, clientNext *grant

	// queued is the time of g's entry in shard.expiries, at or before
	// its expiry (see reclaim); gone marks a grant removed from the
	// shard, whose entries are dropped when they come up.
	queued  int64
	revoked bool
	gone    bool
}

// liveToken is a stored token. scopes is nil when the token carries the
// grant's scopes.
type liveToken struct {
	hash            storage.Hash
	issued, expires int64
	scopes          *[]string
	kind            storage.TokenKind
}

// usedToken is a consumed single-use token. consumed is when it was
// first consumed (see storage.Exchange.ReuseGrace).
type usedToken struct {
	hash              storage.Hash
	expires, consumed int64
	kind              storage.TokenKind
}

// smallGrant is the number of tokens up to which a grant has no index:
// a linear search of a few hashes beats a map, and costs no memory.
const smallGrant = 16

// tokenIndex is the index of a grant with many tokens.
type tokenIndex struct {
	// at maps a token's hash to its place: i for live[i], ^i for used[i].
	at map[storage.Hash]int32
	// pruneAt is the number of tokens at which a write prunes the grant:
	// twice what the last pruning kept, so that pruning a long chain
	// costs O(1) per write amortized, and a grant that keeps as many
	// tokens unexpired holds at most twice that many.
	pruneAt int
	// peak is the most entries at has held since it was made: a Go map
	// keeps its buckets when cleared, so this, not len(at), is what it
	// costs.
	peak int
}

// findLive returns the index of the live token with hash h, or -1. The
// comparison is not constant-time, which needs no secret: h is a hash.
func (g *grant) findLive(h storage.Hash) int {
	if g.index != nil {
		if i, ok := g.index.at[h]; ok && i >= 0 {
			return int(i)
		}
		return -1
	}
	for i := range g.live {
		if g.live[i].hash == h {
			return i
		}
	}
	return -1
}

// findUsed returns the index of the consumed token with hash h, or -1.
func (g *grant) findUsed(h storage.Hash) int {
	if g.index != nil {
		if i, ok := g.index.at[h]; ok && i < 0 {
			return int(^i)
		}
		return -1
	}
	for i := range g.used {
		if g.used[i].hash == h {
			return i
		}
	}
	return -1
}

// has reports whether g holds a token, live or consumed, with hash h.
func (g *grant) has(h storage.Hash) bool {
	if g.index != nil {
		_, ok := g.index.at[h]
		return ok
	}
	return g.findLive(h) >= 0 || g.findUsed(h) >= 0
}

// tokens returns how many tokens g holds, live and consumed.
func (g *grant) tokens() int { return len(g.live) + len(g.used) }

// addLive stores t as a live token of g.
func (g *grant) addLive(t liveToken) {
	g.live = append(g.live, t)
	if g.index != nil {
		g.index.at[t.hash] = pos32(len(g.live) - 1)
	} else if g.tokens() > smallGrant {
		g.reindex()
	}
}

// consume moves the live token live[i] to the consumed ones, consumed
// at now, or one nanosecond past the latest consumption of g when now is
// not after it (a clock that stepped back), so that "consumed after",
// which ends a reuse grace, is the order of the exchanges. used is kept
// in the order of consumption (deleteExpired keeps the order), so its
// last entry is the latest consumption still kept.
func (g *grant) consume(i int, now int64) {
	if n := len(g.used); n > 0 && g.used[n-1].consumed >= now {
		now = g.used[n-1].consumed + 1
	}
	t := &g.live[i]
	g.used = append(g.used, usedToken{hash: t.hash, expires: t.expires, consumed: now, kind: t.kind})
	if g.index != nil {
		g.index.at[t.hash] = pos32(^(len(g.used) - 1))
	}
	last := len(g.live) - 1
	if i != last {
		g.live[i] = g.live[last]
		if g.index != nil {
			g.index.at[g.live[i].hash] = pos32(i)
		}
	}
	g.live[last] = liveToken{}
	g.live = g.live[:last]
}

// prune drops the tokens that expired by now: at every write while the
// grant is small, then when it has doubled since it was last pruned.
func (g *grant) prune(now int64) {
	if g.index != nil && g.tokens() < g.index.pruneAt {
		return
	}
	g.pruneAll(now)
}

// pruneAll drops the tokens that expired by now and rebuilds the index.
func (g *grant) pruneAll(now int64) {
	g.live = deleteExpired(g.live, now, func(t *liveToken) int64 { return t.expires })
	g.used = deleteExpired(g.used, now, func(t *usedToken) int64 { return t.expires })
	if g.tokens() > smallGrant {
		g.reindex()
	} else {
		g.index = nil
	}
}

// reindex builds the index of g, reusing its map if it has one that is
// not much larger than needed (a Go map keeps its buckets when cleared:
// judged by the most entries it has held, not by how many it holds now,
// or a chain that slows down a little at each pruning would keep a map
// sized for its busiest hour).
func (g *grant) reindex() {
	n := g.tokens()
	ix := g.index
	if ix != nil {
		ix.peak = max(ix.peak, len(ix.at))
	}
	// A new map is sized for the 2n tokens the grant may reach before it
	// is pruned and reindexed again (pruneAt), so that a chain that goes
	// on rotating does not grow it, rehashing every entry, on the way.
	switch {
	case ix == nil:
		ix = &tokenIndex{at: make(map[storage.Hash]int32, 2*n)}
	case n < ix.peak/4:
		ix.at = make(map[storage.Hash]int32, 2*n)
		ix.peak = 0
	default:
		clear(ix.at)
	}
	ix.pruneAt = 2 * n
	for i := range g.live {
		ix.at[g.live[i].hash] = pos32(i)
	}
	for i := range g.used {
		ix.at[g.used[i].hash] = pos32(^i)
	}
	g.index = ix
}

// deleteExpired removes in place the elements of s whose expiry is past,
// and returns nil rather than an empty slice so that the array is freed,
// or a smaller copy when what is left fills under a quarter of the array.
func deleteExpired[T any](s []T, now int64, expiry func(*T) int64) []T {
	out := s[:0]
	for i := range s {
		if expiry(&s[i]) > now {
			out = append(out, s[i])
		}
	}
	clear(s[len(out):])
	switch {
	case len(out) == 0:
		return nil
	case cap(out) > smallGrant && len(out) < cap(out)/4:
		return append([]T(nil), out...)
	}
	return out
}

// export returns a copy of the grant as a storage.Grant.
func (g *grant) export() storage.Grant {
	var out storage.Grant
	g.exportTo(&out, false)
	return out
}

// exportTo writes the grant into dst: with copies of its scopes and code
// binding, or when share is set with the stored ones, which are never
// modified (revoke replaces them, it does not write into them).
func (g *grant) exportTo(dst *storage.Grant, share bool) {
	*dst = storage.Grant{
		ID:        g.id,
		ClientID:  g.clientID,
		UserID:    g.userID,
		Username:  g.username,
		Scopes:    g.scopes,
		Binding:   g.binding,
		CreatedAt: fromNano(g.created),
		ExpiresAt: fromNano(g.expires),
		Code:      g.code,
	}
	if !share {
		dst.Scopes = cloneList(g.scopes)
		if g.code != nil {
			c := *g.code
			dst.Code = &c
		}
	}
}

// exportTo writes the token of grant g into dst, with a copy of its
// scopes or, when share is set, the stored scopes, which never change.
func (t *liveToken) exportTo(dst *storage.Token, g *grant, share bool) {
	*dst = storage.Token{
		Hash:      t.hash,
		Kind:      t.kind,
		GrantID:   g.id,
		IssuedAt:  fromNano(t.issued),
		ExpiresAt: fromNano(t.expires),
	}
	if t.scopes != nil {
		dst.Scopes = *t.scopes
		if !share {
			dst.Scopes = cloneList(*t.scopes)
		}
	}
}

// newLiveToken returns the stored form of t, or errTimeRange when its
// times are not ones toNano keeps exactly.
func newLiveToken(t *storage.Token) (liveToken, error) {
	if !nanoTime(t.IssuedAt) || !nanoTime(t.ExpiresAt) {
		return liveToken{}, errTimeRange
	}
	lt := liveToken{hash: t.Hash, kind: t.Kind, issued: toNano(t.IssuedAt), expires: toNano(t.ExpiresAt)}
	if t.Scopes != nil {
		s := cloneList(t.Scopes)
		lt.scopes = &s
	}
	return lt, nil
}

// cloneList copies a list, keeping nil as nil.
func cloneList(s []string) []string {
	if s == nil {
		return nil
	}
	return append(make([]string, 0, len(s)), s...)
}

// add stores g, which must not be in the shard, and indexes it.
func (sh *shard) add(g *grant) {
	sh.grants[g.id] = g
	sh.peak = max(sh.peak, len(sh.grants))
	sh.expiries.push(expiryEntry{at: g.expires, g: g})
	g.queued = g.expires
	sh.link(g)
}

// link puts g at the head of its user's and its client's lists.
func (sh *shard) link(g *grant) {
	if g.userID != "" {
		next := sh.byUser[g.userID]
		g.userNext = next
		if next != nil {
			next.userPrev = g
		}
		sh.byUser[g.userID] = g
		sh.userPeak = max(sh.userPeak, len(sh.byUser))
	}
	next := sh.byClient[g.clientID]
	g.clientNext = next
	if next != nil {
		next.clientPrev = g
	}
	sh.byClient[g.clientID] = g
	sh.clientPeak = max(sh.clientPeak, len(sh.byClient))
}

// unlink takes g off its user's and its client's lists.
func (sh *shard) unlink(g *grant) {
	if g.userID != "" {
		if g.userPrev != nil {
			g.userPrev.userNext = g.userNext
		} else if g.userNext != nil {
			sh.byUser[g.userID] = g.userNext
		} else {
			delete(sh.byUser, g.userID)
		}
		if g.userNext != nil {
			g.userNext.userPrev = g.userPrev
		}
		g.userPrev, g.userNext = nil, nil
	}
	if g.clientPrev != nil {
		g.clientPrev.clientNext = g.clientNext
	} else if g.clientNext != nil {
		sh.byClient[g.clientID] = g.clientNext
	} else {
		delete(sh.byClient, g.clientID)
	}
	if g.clientNext != nil {
		g.clientNext.clientPrev = g.clientPrev
	}
	g.clientPrev, g.clientNext = nil, nil
}

// revoke ends g: its live tokens go at once; its consumed tokens stay
// until they expire, so that presenting one is still reuse. It reports
// whether g was live until now.
func (sh *shard) revoke(g *grant, now int64) bool {
	if g.revoked {
		return false
	}
	wasLive := g.expires > now
	g.revoked = true
	sh.unlink(g)
	g.live = nil
	g.scopes, g.code, g.binding = nil, nil, ""
	g.pruneAll(now)
	if len(g.used) == 0 {
		sh.remove(g)
		return wasLive
	}
	last := g.used[0].expires
	for _, u := range g.used[1:] {
		last = max(last, u.expires)
	}
	sh.setExpiry(g, min(g.expires, last))
	return wasLive
}

// remove deletes g from the shard.
func (sh *shard) remove(g *grant) {
	if !g.revoked {
		sh.unlink(g)
	}
	delete(sh.grants, g.id)
	g.gone = true // its heap entry goes when it comes up
}

// setExpiry moves the expiry of g. A later expiry leaves g's heap entry
// where it is: when it comes up, reclaim queues g again at its expiry. An
// earlier one queues g at once.
func (sh *shard) setExpiry(g *grant, expires int64) {
	g.expires = expires
	if expires < g.queued {
		sh.expiries.push(expiryEntry{at: expires, g: g})
		g.queued = expires
	}
}

// reclaim removes up to limit grants that expired by now, earliest first,
// and gives the grant map's memory back once it has shrunk a lot. Every
// write calls it, so reclaiming keeps pace with issuing.
//
// The heap holds entries (time, grant), at most one live one per grant
// (the one at g.queued): an entry that comes up for a grant that has
// gone, or that a newer entry replaced, is dropped, and one for a grant
// whose expiry moved later is queued again at that expiry. So moving an
// expiry later (every refresh) costs no heap work, and heap work touches
// only the heap's own array.
func (sh *shard) reclaim(now int64, limit int) {
	// Stale entries cost pops too: at most four per grant reclaimed.
	for pops := 4 * limit; pops > 0 && limit > 0 && len(sh.expiries) > 0 && sh.expiries[0].at <= now; pops-- {
		e := sh.expiries.pop()
		g := e.g
		switch {
		case g.gone || e.at != g.queued:
			// stale
		case g.expires > now:
			sh.expiries.push(expiryEntry{at: g.expires, g: g})
			g.queued = g.expires
		default:
			sh.remove(g)
			limit--
		}
	}
	// Entries of removed grants, and entries replaced by earlier ones,
	// wait for their time: drop them all once they outnumber the grants,
	// so that the heap stays within twice the grants (amortised O(1) per
	// entry).
	if len(sh.expiries) > 2*len(sh.grants)+staleSlack {
		sh.expiries.compact()
	}
	// Go maps keep their buckets when entries go: rebuild a map that
	// holds under a quarter of its peak. The per-user and per-client
	// heads are maps too: a user's entry goes with their last grant.
	shrink(&sh.grants, &sh.peak)
	shrink(&sh.byUser, &sh.userPeak)
	shrink(&sh.byClient, &sh.clientPeak)
}

// shrink rebuilds *m when it holds under a quarter of *peak, its largest
// size since it was last rebuilt, so that its buckets are given back.
func shrink(m *map[string]*grant, peak *int) {
	if *peak <= shrinkFloor || len(*m) >= *peak/4 {
		return
	}
	n := make(map[string]*grant, len(*m))
	for k, v := range *m {
		n[k] = v
	}
	*m = n
	*peak = len(n)
}

// expiryEntry is a grant queued for reclaiming at a time.
type expiryEntry struct {
	at int64
	g  *grant
}

// expiryHeap is a min-heap of entries by time.
type expiryHeap []expiryEntry

func (h *expiryHeap) push(e expiryEntry) {
	*h = append(*h, e)
	h.up(len(*h) - 1)
}

// staleSlack is how many entries beyond twice its grants a shard's heap
// may hold before it is compacted.
const staleSlack = 64

// compact drops the entries that are not their grant's live one and
// restores the heap order.
func (h *expiryHeap) compact() {
	live := (*h)[:0]
	for _, e := range *h {
		if !e.g.gone && e.at == e.g.queued {
			live = append(live, e)
		}
	}
	clear((*h)[len(live):]) // no stale pointers left behind the length
	*h = live
	for i := len(live)/2 - 1; i >= 0; i-- {
		live.down(i)
	}
	if cap(*h) > 64 && len(*h) < cap(*h)/4 {
		*h = append(expiryHeap(nil), *h...)
	}
}

// pop removes and returns the earliest entry.
func (h *expiryHeap) pop() expiryEntry {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = expiryEntry{}
	*h = s[:last]
	h.down(0)
	if cap(*h) > 64 && len(*h) < cap(*h)/4 {
		*h = append(expiryHeap(nil), *h...)
	}
	return top
}

func (h expiryHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent].at <= h[i].at {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (h expiryHeap) down(i int) {
	for {
		least := i
		if l := 2*i + 1; l < len(h) && h[l].at < h[least].at {
			least = l
		}
		if r := 2*i + 2; r < len(h) && h[r].at < h[least].at {
			least = r
		}
		if least == i {
			return
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
}

// Times are kept as Unix nanoseconds, a third of the size of a time.Time.
// The zero time is kept as math.MinInt64 so that it comes back as the zero
// time; times outside the int64 range are clamped.
var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

// errTimeRange refuses a time the store cannot keep as it is: it keeps
// times in Unix nanoseconds, which hold the years 1678 to 2262 (a time
// past them would come back as another).
var errTimeRange = errors.New("memory: a time outside the years 1678-2262 cannot be stored")

// nanoTime reports whether toNano keeps t exactly: t is zero or within
// [minTime, maxTime].
func nanoTime(t time.Time) bool {
	return t.IsZero() || (!t.Before(minTime) && !t.After(maxTime))
}

// toNano returns t in Unix nanoseconds.
func toNano(t time.Time) int64 {
	switch {
	case t.IsZero():
		return math.MinInt64
	case t.Before(minTime):
		return math.MinInt64 + 1
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// fromNano is the inverse of toNano.
func fromNano(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// pos32 narrows a slice position to the int32 that the token index and
// the expiry heap keep (so that a grant stays in its size class). No shard
// holds 2^31 grants, nor a grant 2^31 tokens; should one, pos32 panics
// rather than corrupt an index.
func pos32(i int) int32 {
	if i < math.MinInt32 || i > math.MaxInt32 {
		panic("memory: position overflows int32")
	}
	return int32(i) // #nosec G115 -- range checked above
}
