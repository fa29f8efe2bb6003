package storagetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// cleanerClauses check storage.Cleaner, for stores that implement it.
var cleanerClauses = []clause{
	{"DeleteExpiredInBatches", testDeleteExpired},
	{"KeepsWhatIsStillLiveOrReuse", testDeleteExpiredKeeps},
	{"LimitBoundsEveryKindTogether", testDeleteExpiredLimit},
}

func testDeleteExpired(t *testing.T, e *env) {
	c, ok := e.b.Tokens.(storage.Cleaner)
	if !ok {
		t.Skip("the token store does not implement storage.Cleaner")
	}
	n, err := c.DeleteExpired(e.ctx, 100)
	require.NoError(t, err)
	assert.Zero(t, n, "a fresh store has nothing to delete")

	// Five grants that expire in a minute, one that lives on, one revoked.
	now := e.clk.Now()
	var expiring []minted
	for range 5 {
		id := newGrantID(t)
		g := &storage.Grant{ID: id, ClientID: "client-a", UserID: "user-1", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
		tok := mint(t, now, storage.KindAccess, id, time.Minute)
		e.store(t, g, tok)
		expiring = append(expiring, tok)
	}
	live := e.storedGrant(t, "client-a", "user-1")
	revoked := e.storedGrant(t, "client-a", "user-2")
	require.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, revoked.g.ID))

	n, err = c.DeleteExpired(e.ctx, 100)
	require.NoError(t, err)
	assert.LessOrEqual(t, n, 1, "before anything expires, only the revoked grant may go")
	for _, m := range expiring {
		e.assertLive(t, m, "not expired yet, so not deleted")
	}

	// At its expiry a record is expired (live strictly before it).
	e.clk.Advance(time.Minute)
	const limit = 2
	total := 0
	for i := 0; ; i++ {
		require.Less(t, i, 100, "DeleteExpired keeps returning full batches")
		n, err := c.DeleteExpired(e.ctx, limit)
		require.NoError(t, err)
		require.LessOrEqual(t, n, limit, "a batch is bounded by limit")
		total += n
		if n < limit {
			break
		}
	}
	assert.GreaterOrEqual(t, total, len(expiring), "every expired grant was deleted")
	n, err = c.DeleteExpired(e.ctx, 100)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left to delete")

	for _, m := range expiring {
		e.assertGone(t, m)
	}
	// A lookup does not find an expired token whether or not it was
	// deleted: what the store still holds shows what the cleaner did.
	if e.b.Dump != nil {
		dump, err := e.b.Dump(e.ctx)
		require.NoError(t, err)
		require.True(t, bytes.Contains(dump, []byte(live.g.ID)), "the dump holds the live grant (else this check proves nothing)")
		for _, m := range expiring {
			assert.False(t, bytes.Contains(dump, []byte(m.tok.GrantID)), "expired grant %s is still stored", m.tok.GrantID)
		}
		assert.False(t, bytes.Contains(dump, []byte(revoked.g.ID)), "the revoked grant is still stored")
	}
	for _, m := range live.tokens() {
		e.assertLive(t, m, "a live %v token survives the cleaner", m.tok.Kind)
	}
	a2, r2 := e.nextPair(t, live.g.ID)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(live.refresh, "client-a", a2, r2))
	require.NoError(t, err, "a live grant still rotates after cleaning")
	e.assertLive(t, a2)
}

// drain calls c.DeleteExpired until a batch comes back short.
func drain(t *testing.T, ctx context.Context, c storage.Cleaner) {
	t.Helper()
	const limit = 100
	for i := 0; ; i++ {
		require.Less(t, i, 100, "DeleteExpired keeps returning full batches")
		n, err := c.DeleteExpired(ctx, limit)
		require.NoError(t, err)
		if n < limit {
			return
		}
	}
}

// testDeleteExpiredKeeps checks what a janitor must not delete: a grant
// whose first tokens expired but which an exchange and an extension
// moved on, and a consumed refresh token of a revoked grant, which stays
// reuse until its own expiry (storage.Cleaner, TokenStore.ExchangeToken).
func testDeleteExpiredKeeps(t *testing.T, e *env) {
	c, ok := e.b.Tokens.(storage.Cleaner)
	if !ok {
		t.Skip("the token store does not implement storage.Cleaner")
	}
	now := e.clk.Now()

	// A grant created to end in a minute, moved on by an exchange (its new
	// refresh token lives an hour) and an extension (its session two).
	id := newGrantID(t)
	refresh := mint(t, now, storage.KindRefresh, id, time.Minute)
	session := mint(t, now, storage.KindSession, id, time.Minute)
	e.store(t, &storage.Grant{ID: id, ClientID: "client-a", UserID: "user-1", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}, refresh, session)
	a2, r2 := mint(t, now, storage.KindAccess, id, time.Minute), mint(t, now, storage.KindRefresh, id, time.Hour)
	_, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(refresh, "client-a", a2, r2))
	require.NoError(t, err)
	require.NoError(t, e.b.Tokens.ExtendToken(e.ctx, session.ref, now.Add(2*time.Hour)))

	// A grant revoked after a rotation: its consumed refresh token lives
	// half an hour, the tokens it was traded for a minute.
	rid := newGrantID(t)
	consumed := mint(t, now, storage.KindRefresh, rid, 30*time.Minute)
	e.store(t, &storage.Grant{ID: rid, ClientID: "client-a", UserID: "user-2", CreatedAt: now, ExpiresAt: now.Add(30 * time.Minute)}, consumed)
	ra, rr := mint(t, now, storage.KindAccess, rid, time.Minute), mint(t, now, storage.KindRefresh, rid, time.Minute)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(consumed, "client-a", ra, rr))
	require.NoError(t, err)
	require.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, rid))

	reuse := func() error {
		next := mint(t, e.clk.Now(), storage.KindRefresh, rid, time.Hour)
		_, err := e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(consumed, "client-a", next))
		return err
	}

	e.clk.Advance(2 * time.Minute)
	drain(t, e.ctx, c)
	e.assertLive(t, r2, "a refresh token issued by an exchange outlives the grant's first expiry")
	e.assertLive(t, session, "an extended session outlives the grant's first expiry")
	a3, r3 := e.nextPair(t, id)
	_, err = e.b.Tokens.ExchangeToken(e.ctx, refreshExchange(r2, "client-a", a3, r3))
	require.NoError(t, err, "the grant moved on still rotates after cleaning")
	assert.ErrorIs(t, reuse(), storage.ErrTokenReused, "a consumed token of a revoked grant is reuse until it expires, cleaned or not")

	e.clk.Advance(30 * time.Minute)
	drain(t, e.ctx, c)
	assert.ErrorIs(t, reuse(), storage.ErrNotFound, "an expired consumed token is no reuse")
	if e.b.Dump != nil {
		dump, err := e.b.Dump(e.ctx)
		require.NoError(t, err)
		require.True(t, bytes.Contains(dump, []byte(id)), "the dump holds the live grant (else this check proves nothing)")
		assert.False(t, bytes.Contains(dump, []byte(rid)), "the revoked grant is still stored after its consumed token expired")
	}
}

// testDeleteExpiredLimit checks that limit bounds the records a call
// removes of every kind together: a call that finds fewer expired grants
// than limit removes revoked grants and expired tokens only up to limit.
func testDeleteExpiredLimit(t *testing.T, e *env) {
	c, ok := e.b.Tokens.(storage.Cleaner)
	if !ok {
		t.Skip("the token store does not implement storage.Cleaner")
	}
	now := e.clk.Now()
	id := newGrantID(t)
	e.store(t, &storage.Grant{ID: id, ClientID: "client-a", UserID: "user-1", CreatedAt: now, ExpiresAt: now.Add(time.Minute)},
		mint(t, now, storage.KindAccess, id, time.Minute))
	for range 3 {
		f := e.storedGrant(t, "client-a", "user-2")
		require.NoError(t, e.b.Tokens.RevokeGrant(e.ctx, f.g.ID))
	}
	e.clk.Advance(time.Minute) // one expired grant, three revoked ones

	const limit = 2
	n, err := c.DeleteExpired(e.ctx, limit)
	require.NoError(t, err)
	assert.Equal(t, limit, n, "a call removes up to limit records, of any kind")
	n, err = c.DeleteExpired(e.ctx, limit)
	require.NoError(t, err)
	assert.Equal(t, limit, n, "the rest, up to limit")
	n, err = c.DeleteExpired(e.ctx, limit)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left")
}
