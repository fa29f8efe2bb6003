package storagetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// cleanerClauses check storage.Cleaner, for stores that implement it.
var cleanerClauses = []clause{
	{"DeleteExpiredInBatches", testDeleteExpired},
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

	e.clk.Advance(time.Minute + time.Second)
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
