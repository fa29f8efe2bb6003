package memory

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// TestConcurrentIssueLookupRevoke runs issuing, lookups, rotation and
// revocation by grant, user and client at once (run it with -race), then
// checks that the store's indexes still agree and that every revocation
// stuck.
func TestConcurrentIssueLookupRevoke(t *testing.T) {
	ctx := t.Context()
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	const workers, rounds = 8, 200

	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			user := fmt.Sprintf("user-%d", w%4)
			client := fmt.Sprintf("client-%d", w%2)
			for i := range rounds {
				now := clk.Now()
				id, access, refresh, err := tryIssue(ctx, s, now, client, user, time.Hour)
				if err != nil {
					errs <- err
					return
				}
				if _, err := s.LookupToken(ctx, storage.KindAccess, access); err != nil && !errors.Is(err, storage.ErrNotFound) {
					errs <- err
					return
				}
				_, next, err := token.New(storage.KindRefresh, id)
				if err != nil {
					errs <- err
					return
				}
				_, err = s.ExchangeToken(ctx, storage.Exchange{
					Kind: storage.KindRefresh, Presented: refresh, ClientID: client,
					Issue: []storage.Token{{Hash: next.Hash, Kind: storage.KindRefresh, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}},
				})
				if err != nil && !errors.Is(err, storage.ErrNotFound) { // a concurrent revocation may win
					errs <- err
					return
				}
				err = nil
				switch i % 10 {
				case 3:
					err = s.RevokeGrant(ctx, id)
				case 6:
					_, err = s.RevokeUser(ctx, user)
				case 9:
					_, err = s.RevokeClient(ctx, client)
				}
				if err != nil {
					errs <- err
					return
				}
				if i%50 == 0 {
					clk.Advance(time.Minute)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	checkInvariants(t, s)

	// Everything left can be revoked, and then nothing is found.
	for c := range 2 {
		_, err := s.RevokeClient(ctx, fmt.Sprintf("client-%d", c))
		require.NoError(t, err)
	}
	for i := range s.shards {
		sh := &s.shards[i]
		assert.Empty(t, sh.byUser, "shard %d", i)
		assert.Empty(t, sh.byClient, "shard %d", i)
		for _, g := range sh.grants {
			assert.True(t, g.revoked, "only revoked grants remembering consumed tokens remain")
			assert.Empty(t, g.live)
		}
	}
	checkInvariants(t, s)
}

// RevokeUser is atomic: of two grants of the user created one after the
// other while it runs, the later one is never revoked while the earlier
// one is kept. (Shard by shard, it could visit the earlier grant's shard
// before that grant was created and the later one's after.)
func TestRevokeUserIsAtomic(t *testing.T) {
	ctx := t.Context()
	clk := newTestClock()
	s := New(Config{Now: clk.Now})
	shardIndex := func(id string) int {
		for i := range s.shards {
			if &s.shards[i] == s.shardOf(id) {
				return i
			}
		}
		panic("no shard")
	}
	// An ID in a low shard and one in a high shard, as often as not
	// visited in that order by a revocation going shard by shard.
	idIn := func(low bool) string {
		for {
			id, err := token.NewGrantID()
			require.NoError(t, err)
			if i := shardIndex(id); low && i < numShards/4 || !low && i >= 3*numShards/4 {
				return id
			}
		}
	}
	for round := range 2000 {
		user := fmt.Sprintf("u%d", round)
		first, second := idIn(true), idIn(false)
		create := func(id string) {
			now := clk.Now()
			require.NoError(t, s.CreateGrant(ctx, &storage.Grant{ID: id, ClientID: "c", UserID: user, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
		}
		var wg sync.WaitGroup
		wg.Go(func() { create(first); create(second) })
		wg.Go(func() { _, _ = s.RevokeUser(ctx, user) })
		wg.Wait()
		kept := func(id string) bool { // a revoked grant with no consumed token is removed
			g := s.shardOf(id).grants[id]
			return g != nil && !g.revoked
		}
		firstKept, secondKept := kept(first), kept(second)
		require.False(t, firstKept && !secondKept, "round %d: the earlier grant was kept and the later one revoked", round)
	}
}
