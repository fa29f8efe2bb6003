package memory

import (
	"context"
	"errors"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
)

// Errors for calls that break the contract (programming errors).
var (
	errNoGrantID         = errors.New("memory: grant has no ID")
	errTokenOfOtherGrant = errors.New("memory: token's GrantID is not the grant's ID")
)

// CreateGrant stores g with its first tokens, all or nothing. It returns
// [storage.ErrAlreadyExists] when the grant ID is taken or two tokens have
// one hash. (A token hash covers the grant ID, so a hash stored under
// another grant can only come from a SHA-256 collision; it is not looked
// for.) The grant's expiry is kept at least as late as its tokens'.
func (s *Store) CreateGrant(_ context.Context, g *storage.Grant, tokens ...storage.Token) error {
	if g == nil || g.ID == "" {
		return errNoGrantID
	}
	if !nanoTime(g.CreatedAt) || !nanoTime(g.ExpiresAt) {
		return errTimeRange
	}
	ng := &grant{
		id:       g.ID,
		clientID: g.ClientID,
		userID:   g.UserID,
		username: g.Username,
		binding:  g.Binding,
		scopes:   cloneList(g.Scopes),
		created:  toNano(g.CreatedAt),
		expires:  toNano(g.ExpiresAt),
	}
	if g.Code != nil {
		c := *g.Code
		ng.code = &c
	}
	if len(tokens) > 0 {
		ng.live = make([]liveToken, 0, len(tokens))
	}
	for i := range tokens {
		t := &tokens[i]
		if t.GrantID != g.ID {
			return errTokenOfOtherGrant
		}
		if ng.findLive(t.Hash) >= 0 {
			return storage.ErrAlreadyExists
		}
		lt, err := newLiveToken(t)
		if err != nil {
			return err
		}
		ng.expires = max(ng.expires, lt.expires)
		ng.addLive(lt)
	}

	now := toNano(s.now())
	sh := s.shardOf(g.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.reclaim(now, reclaimPerWrite)
	if _, taken := sh.grants[g.ID]; taken {
		return storage.ErrAlreadyExists
	}
	sh.add(ng)
	return nil
}

// LookupToken returns a copy of the live token of the given kind that ref
// names, with its grant, or [storage.ErrNotFound].
func (s *Store) LookupToken(_ context.Context, kind storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	ti := new(storage.TokenInfo)
	if err := s.lookupAt(toNano(s.now()), kind, ref, ti, false); err != nil {
		return nil, err
	}
	return ti, nil
}

// LookupTokenInto is LookupToken writing into dst without allocating:
// the scopes and the code binding in dst are the store's own, which never
// change once stored, and must not be modified; see
// [storage.TokenInfoFiller]. Expiry is judged at now, not by the
// store's clock.
func (s *Store) LookupTokenInto(_ context.Context, kind storage.TokenKind, ref storage.TokenRef, now time.Time, dst *storage.TokenInfo) error {
	return s.lookupAt(toNano(now), kind, ref, dst, true)
}

// lookupAt writes the token of the given kind that ref names, live at
// now (Unix nanoseconds), with its grant, into dst: copies of its lists,
// or when share is set the stored lists themselves.
func (s *Store) lookupAt(now int64, kind storage.TokenKind, ref storage.TokenRef, dst *storage.TokenInfo, share bool) error {
	sh := s.shardOf(ref.GrantID)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	g := sh.grants[ref.GrantID]
	if g == nil || g.revoked || g.expires <= now {
		return storage.ErrNotFound
	}
	i := g.findLive(ref.Hash)
	if i < 0 {
		return storage.ErrNotFound
	}
	t := &g.live[i]
	if t.kind != kind || t.expires <= now {
		return storage.ErrNotFound
	}
	t.exportTo(&dst.Token, g, share)
	g.exportTo(&dst.Grant, share)
	return nil
}

// ExchangeToken consumes the presented refresh token or code and stores
// the new tokens in its grant, atomically under the grant's shard lock;
// see [storage.TokenStore]. x.Check runs under that lock: it must not call
// the store.
func (s *Store) ExchangeToken(_ context.Context, x storage.Exchange) (*storage.Grant, error) {
	if x.Kind != storage.KindRefresh && x.Kind != storage.KindCode {
		return nil, storage.ErrNotFound
	}
	// The stored form of the new tokens, made before taking the lock, on
	// the stack for up to three (a refresh or a code issues two).
	var small [3]liveToken
	issue := small[:0]
	if len(x.Issue) > len(small) {
		issue = make([]liveToken, 0, len(x.Issue))
	}
	for i := range x.Issue {
		lt, err := newLiveToken(&x.Issue[i])
		if err != nil {
			return nil, err
		}
		issue = append(issue, lt)
	}

	now := toNano(s.now())
	sh := s.shardOf(x.Presented.GrantID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.reclaim(now, reclaimPerWrite)
	g := sh.grants[x.Presented.GrantID]
	if g == nil || g.expires <= now || g.clientID != x.ClientID {
		return nil, storage.ErrNotFound
	}
	i := g.findLive(x.Presented.Hash)
	if i < 0 {
		u := g.findUsed(x.Presented.Hash)
		if u < 0 || g.used[u].kind != x.Kind || g.used[u].expires <= now {
			return nil, storage.ErrNotFound
		}
		if !inGrace(g, &g.used[u], x.Grace(), now) {
			sh.revoke(g, now)
			return nil, &storage.ReuseError{GrantID: g.id, ClientID: g.clientID, UserID: g.userID}
		}
		// Exchanged again within the grace: it stays consumed, with
		// the instant of its first consumption.
	} else if presented := &g.live[i]; presented.kind != x.Kind || presented.expires <= now {
		return nil, storage.ErrNotFound
	}
	if x.Check != nil {
		view := g.export()
		if err := x.Check(&view); err != nil {
			return nil, err
		}
	}
	for j := range issue {
		if g.has(issue[j].hash) || hashIn(issue[:j], issue[j].hash) {
			return nil, storage.ErrAlreadyExists
		}
	}

	if i >= 0 {
		g.consume(i, now)
	}
	g.prune(now)
	if x.Bind != "" && g.binding == "" {
		g.binding = x.Bind
	}
	expires := g.expires
	for _, t := range issue {
		expires = max(expires, t.expires)
		g.addLive(t)
	}
	sh.setExpiry(g, expires)
	out := g.export()
	return &out, nil
}

// inGrace reports whether the consumed token u of g may be exchanged
// again at now with the reuse grace grace (storage.Exchange.Grace): g is
// live, u was first consumed less than grace ago, and no token of g was
// consumed since.
func inGrace(g *grant, u *usedToken, grace time.Duration, now int64) bool {
	if grace <= 0 || g.revoked || now-u.consumed >= int64(grace) {
		return false
	}
	// The chain moved on (the client had its answer) when a token of g
	// was consumed after u: used is in the order of consumption, at
	// strictly increasing instants (see consume), so the last one tells.
	return g.used[len(g.used)-1].consumed <= u.consumed
}

// hashIn reports whether one of toks has hash h.
func hashIn(toks []liveToken, h storage.Hash) bool {
	for i := range toks {
		if toks[i].hash == h {
			return true
		}
	}
	return false
}

// ExtendToken moves the expiry of the live token ref names, and of its
// grant if the token would outlive it, to expiresAt. A token that is not
// live is [storage.ErrNotFound].
func (s *Store) ExtendToken(_ context.Context, ref storage.TokenRef, expiresAt time.Time) error {
	if !nanoTime(expiresAt) {
		return errTimeRange
	}
	now := toNano(s.now())
	exp := toNano(expiresAt)
	sh := s.shardOf(ref.GrantID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.reclaim(now, reclaimPerWrite)
	g := sh.grants[ref.GrantID]
	if g == nil || g.revoked || g.expires <= now {
		return storage.ErrNotFound
	}
	i := g.findLive(ref.Hash)
	if i < 0 || g.live[i].expires <= now {
		return storage.ErrNotFound
	}
	g.live[i].expires = exp
	g.prune(now)
	if exp > g.expires {
		sh.setExpiry(g, exp)
	}
	return nil
}

// RevokeGrant ends the grant and all its tokens. An unknown grant is not
// an error.
func (s *Store) RevokeGrant(_ context.Context, grantID string) error {
	now := toNano(s.now())
	sh := s.shardOf(grantID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.reclaim(now, reclaimPerWrite)
	if g := sh.grants[grantID]; g != nil {
		sh.revoke(g, now)
	}
	return nil
}

// RevokeUser ends every grant of the user and returns how many live
// grants it ended. It visits each shard's list of the user's grants, not
// every grant.
func (s *Store) RevokeUser(_ context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, nil // client_credentials grants belong to no user
	}
	return s.revokeList(func(sh *shard) (*grant, func(*grant) *grant) {
		return sh.byUser[userID], func(g *grant) *grant { return g.userNext }
	}), nil
}

// RevokeClient ends every grant of the client and returns how many live
// grants it ended. It visits each shard's list of the client's grants, not
// every grant.
func (s *Store) RevokeClient(_ context.Context, clientID string) (int, error) {
	if clientID == "" {
		return 0, nil // the browser sessions' grants, which no client owns
	}
	return s.revokeList(func(sh *shard) (*grant, func(*grant) *grant) {
		return sh.byClient[clientID], func(g *grant) *grant { return g.clientNext }
	}), nil
}

// revokeList revokes the grants of one list (the head and the step that
// list gives) in every shard and returns how many were live. It holds
// every shard's lock at once (taken in shard order, the only place that
// takes more than one), so that it is atomic: a grant created during it
// is created either before it, and revoked, or after it, and kept, never
// kept while a grant created later is revoked.
func (s *Store) revokeList(list func(*shard) (head *grant, next func(*grant) *grant)) int {
	now := toNano(s.now())
	for i := range s.shards {
		s.shards[i].mu.Lock()
	}
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.reclaim(now, reclaimPerWrite)
		g, next := list(sh)
		for g != nil {
			following := next(g) // revoke unlinks g
			if sh.revoke(g, now) {
				n++
			}
			g = following
		}
	}
	for i := range s.shards {
		s.shards[i].mu.Unlock()
	}
	return n
}
