package memory

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// CreateGrant refuses the calls that break its contract (programming
// errors) and stores nothing for them.
func TestCreateGrantRefusesBrokenContract(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := func(grantID string) storage.Token {
		return storage.Token{
			Hash: storage.HashToken("tok-" + grantID), Kind: storage.KindAccess, GrantID: grantID,
			IssuedAt: now, ExpiresAt: now.Add(time.Hour),
		}
	}
	for name, c := range map[string]struct {
		grantID string
		tok     storage.Token
		want    error
	}{
		// An empty ID would be one grant every such call shares.
		"grant without ID": {"", tok(""), errNoGrantID},
		// A token filed under a grant its GrantID does not name could
		// never be looked up by its ref.
		"token of another grant": {"g-1", tok("g-2"), errTokenOfOtherGrant},
	} {
		t.Run(name, func(t *testing.T) {
			s := New(Config{Now: func() time.Time { return now }})
			g := &storage.Grant{ID: c.grantID, ClientID: "client-a", UserID: "user-1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			err := s.CreateGrant(t.Context(), g, c.tok)
			require.Error(t, err)
			assert.True(t, errors.Is(err, c.want), "got %v, want %v", err, c.want)
			for _, ref := range []storage.TokenRef{
				{GrantID: c.grantID, Hash: c.tok.Hash},
				{GrantID: c.tok.GrantID, Hash: c.tok.Hash},
			} {
				_, err := s.LookupToken(t.Context(), storage.KindAccess, ref)
				assert.ErrorIs(t, err, storage.ErrNotFound, "a refused grant stores nothing (ref %q)", ref.GrantID)
			}
		})
	}
}

// The lists of a client GetClient returns share one array: an append to
// one must not write into the next.
func TestGetClientListsDoNotOverlap(t *testing.T) {
	s := New(Config{})
	require.NoError(t, s.CreateClient(t.Context(), &storage.Client{
		ID: "c", SecretHash: storage.HashGeneratedSecret("s"), GrantTypes: []string{"password"}, Scopes: []string{"read"}, DefaultScopes: []string{"read"},
	}))
	c, err := s.GetClient(t.Context(), "c")
	require.NoError(t, err)
	_ = append(c.GrantTypes, "client_credentials")
	_ = append(c.Scopes, "admin")
	assert.Equal(t, []string{"read"}, c.Scopes, "Scopes after an append to GrantTypes")
	assert.Equal(t, []string{"read"}, c.DefaultScopes, "DefaultScopes after an append to Scopes")
}

// RevokeUser counts the live grants it ended, not those that had expired
// and were not reclaimed yet (a write reclaims a few per shard), whether
// past their expiry or at it (a grant is live strictly before it).
func TestRevokeUserCountsOnlyLiveGrants(t *testing.T) {
	for _, after := range []time.Duration{2 * time.Minute, time.Minute} {
		now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		s := New(Config{Now: func() time.Time { return now }})
		for i := range 20 * numShards {
			id := fmt.Sprintf("g-%d", i)
			ttl := time.Minute
			if i == 0 {
				ttl = time.Hour
			}
			require.NoError(t, s.CreateGrant(t.Context(), &storage.Grant{ID: id, ClientID: "c", UserID: "u", CreatedAt: now, ExpiresAt: now.Add(ttl)},
				storage.Token{Hash: storage.HashToken(id), Kind: storage.KindAccess, GrantID: id, IssuedAt: now, ExpiresAt: now.Add(ttl)}))
		}
		now = now.Add(after)
		n, err := s.RevokeUser(t.Context(), "u")
		require.NoError(t, err)
		assert.Equal(t, 1, n, "live grants revoked %v after the others were issued for a minute", after)
	}
}

// LookupTokenInto judges expiry at the now it is given, the caller's
// clock reading, not at the store's clock.
func TestLookupTokenIntoJudgesExpiryAtItsNow(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New(Config{Now: func() time.Time { return now }})
	id, access, _ := issue(t, s, now, "c", "u", time.Hour)
	var dst storage.TokenInfo
	require.NoError(t, s.LookupTokenInto(t.Context(), storage.KindAccess, access, now.Add(time.Hour-time.Nanosecond), &dst))
	assert.Equal(t, id, dst.Grant.ID)
	err := s.LookupTokenInto(t.Context(), storage.KindAccess, access, now.Add(time.Hour), &dst)
	assert.ErrorIs(t, err, storage.ErrNotFound, "expired at the caller's now, live by the store's clock")

	now = now.Add(2 * time.Hour)
	require.NoError(t, s.LookupTokenInto(t.Context(), storage.KindAccess, access, now.Add(-2*time.Hour), &dst),
		"live at the caller's now, expired by the store's clock (not reclaimed: no write since)")
}

// UpdateClient compares the revision and writes under the clients' lock,
// so that of two updates of one revision only one is stored: while the
// lock is held, an update waits. (The conformance suite's concurrent
// updates catch a store without the lock only when two updates meet in
// the few nanoseconds between its read and its write.)
func TestUpdateClientWaitsForTheClientsLock(t *testing.T) {
	s := New(Config{})
	require.NoError(t, s.CreateClient(t.Context(), &storage.Client{ID: "c", Public: true}))
	s.clients.mu.Lock()
	done := make(chan error, 1)
	go func() { done <- s.UpdateClient(t.Context(), &storage.Client{ID: "c", Public: true, Revision: 1}) }()
	select {
	case err := <-done:
		s.clients.mu.Unlock()
		t.Fatalf("UpdateClient returned (%v) while the clients' lock was held", err)
	case <-time.After(50 * time.Millisecond):
	}
	s.clients.mu.Unlock()
	require.NoError(t, <-done)
	c, err := s.GetClient(t.Context(), "c")
	require.NoError(t, err)
	assert.Equal(t, int64(2), c.Revision)
}

// A grant ended again (RevokeGrant, or the reuse of the consumed token
// it is remembered by) is off its user's and its client's lists already:
// ending it again must not take those lists' other grants of its shard
// off with it, or RevokeUser and RevokeClient would miss them. The
// conformance suite checks this too, but cannot choose the shards.
func TestEndingAnEndedGrantAgainKeepsItsShardsLists(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, revoke := range []struct {
		name string
		call func(*Store) (int, error)
	}{
		{"RevokeUser", func(s *Store) (int, error) { return s.RevokeUser(t.Context(), "u") }},
		{"RevokeClient", func(s *Store) (int, error) { return s.RevokeClient(t.Context(), "c") }},
	} {
		t.Run(revoke.name, func(t *testing.T) {
			s := New(Config{Now: func() time.Time { return now }})
			ended, _, refresh := issue(t, s, now, "c", "u", time.Hour)
			rotate := func() (*storage.Grant, error) {
				_, access2, err := token.New(storage.KindAccess, ended)
				require.NoError(t, err)
				return s.ExchangeToken(t.Context(), storage.Exchange{
					Kind: storage.KindRefresh, Presented: refresh, ClientID: "c",
					Issue: []storage.Token{{Hash: access2.Hash, Kind: storage.KindAccess, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}},
				})
			}
			_, err := rotate() // a consumed token: the grant is remembered once ended
			require.NoError(t, err)
			// Other grants of the user and the client in the ended grant's shard.
			var others []storage.TokenRef
			for len(others) < 2 {
				id, access, _ := issue(t, s, now, "c", "u", time.Hour)
				if s.shardOf(id) == s.shardOf(ended) {
					others = append(others, access)
				} else {
					require.NoError(t, s.RevokeGrant(t.Context(), id))
				}
			}
			require.NoError(t, s.RevokeGrant(t.Context(), ended))
			require.NoError(t, s.RevokeGrant(t.Context(), ended), "again")
			_, err = rotate()
			require.ErrorIs(t, err, storage.ErrTokenReused)

			n, err := revoke.call(s)
			require.NoError(t, err)
			assert.Equal(t, len(others), n, "the other grants of the shard, live")
			for _, ref := range others {
				_, err := s.LookupToken(t.Context(), storage.KindAccess, ref)
				assert.ErrorIs(t, err, storage.ErrNotFound, "revoked")
			}
		})
	}
}
