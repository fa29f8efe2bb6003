package redis

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// harness is one store on one topology with its clock and prefix.
type harness struct {
	t      *testing.T
	s      *Store
	rdb    goredis.UniversalClient
	clk    *fakeClock
	prefix string
	ctx    context.Context
}

// each runs fn on a fresh store on every topology.
func each(t *testing.T, fn func(t *testing.T, h *harness)) {
	for _, tp := range topologies {
		t.Run(tp.name, func(t *testing.T) {
			c := tp.client(t)
			clk := newFakeClock()
			s, prefix := newStore(t, c, clk.Now)
			fn(t, &harness{t: t, s: s, rdb: c, clk: clk, prefix: prefix, ctx: t.Context()})
		})
	}
}

// newToken mints a token of kind k for grant gid, issued now, living ttl.
func (h *harness) newToken(k storage.TokenKind, gid string, ttl time.Duration) (storage.TokenRef, storage.Token) {
	h.t.Helper()
	_, ref, err := token.New(k, gid)
	require.NoError(h.t, err)
	now := h.clk.Now()
	return ref, storage.Token{Hash: ref.Hash, Kind: k, GrantID: gid, IssuedAt: now, ExpiresAt: now.Add(ttl)}
}

// grant stores a grant of client for user, living ttl, with one refresh
// token living ttl and one access token living an hour.
func (h *harness) grant(clientID, userID string, ttl time.Duration) (g *storage.Grant, access, refresh storage.TokenRef) {
	h.t.Helper()
	gid, err := token.NewGrantID()
	require.NoError(h.t, err)
	now := h.clk.Now()
	g = &storage.Grant{ID: gid, ClientID: clientID, UserID: userID, Scopes: []string{"read"}, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	access, at := h.newToken(storage.KindAccess, gid, time.Hour)
	refresh, rt := h.newToken(storage.KindRefresh, gid, ttl)
	require.NoError(h.t, h.s.CreateGrant(h.ctx, g, at, rt))
	return g, access, refresh
}

// exchange returns an exchange of refresh for a new access and refresh
// token, and their refs.
func (h *harness) exchange(clientID string, refresh storage.TokenRef) (storage.Exchange, [2]storage.TokenRef) {
	h.t.Helper()
	a, at := h.newToken(storage.KindAccess, refresh.GrantID, time.Hour)
	r, rt := h.newToken(storage.KindRefresh, refresh.GrantID, 24*time.Hour)
	return storage.Exchange{Kind: storage.KindRefresh, Presented: refresh, ClientID: clientID, Issue: []storage.Token{at, rt}}, [2]storage.TokenRef{a, r}
}

func (h *harness) live(kind storage.TokenKind, ref storage.TokenRef) bool {
	h.t.Helper()
	_, err := h.s.LookupToken(h.ctx, kind, ref)
	if err != nil {
		require.ErrorIs(h.t, err, storage.ErrNotFound)
	}
	return err == nil
}

// Check sees the grant, and a grant revoked between Check and the commit
// (here, by Check itself) makes the exchange fail without issuing.
func TestExchangeCheckIsGuarded(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		g, _, refresh := h.grant("web", "alice", 24*time.Hour)
		x, issued := h.exchange("web", refresh)
		var seen *storage.Grant
		x.Check = func(cg *storage.Grant) error {
			seen = cg
			return h.s.RevokeGrant(h.ctx, cg.ID)
		}
		_, err := h.s.ExchangeToken(h.ctx, x)
		assert.ErrorIs(t, err, storage.ErrNotFound)
		require.NotNil(t, seen, "Check ran")
		assert.Equal(t, g.UserID, seen.UserID)
		assert.False(t, h.live(storage.KindAccess, issued[0]), "nothing issued")
		assert.False(t, h.live(storage.KindRefresh, issued[1]), "nothing issued")
	})
}

// A grant bound between Check and the commit (by another exchange of one
// of its tokens, with Exchange.Bind) fails the commit's guard: Check's
// verdict was on an unbound grant, so the exchange fails, issuing nothing
// and consuming nothing.
func TestExchangeCheckIsGuardedAgainstABinding(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		now := h.clk.Now()
		id, err := token.NewGrantID()
		require.NoError(t, err)
		r1, t1 := h.newToken(storage.KindRefresh, id, 24*time.Hour)
		r2, t2 := h.newToken(storage.KindRefresh, id, 24*time.Hour)
		g := &storage.Grant{ID: id, ClientID: "web", UserID: "alice", CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
		require.NoError(t, h.s.CreateGrant(h.ctx, g, t1, t2))

		x, issued := h.exchange("web", r1)
		x.Check = func(cg *storage.Grant) error {
			require.Empty(t, cg.Binding)
			other, _ := h.exchange("web", r2)
			other.Bind = "jkt-other"
			_, err := h.s.ExchangeToken(h.ctx, other)
			return err
		}
		_, err = h.s.ExchangeToken(h.ctx, x)
		assert.ErrorIs(t, err, storage.ErrNotFound)
		assert.True(t, h.live(storage.KindRefresh, r1), "not consumed")
		assert.False(t, h.live(storage.KindRefresh, issued[1]), "nothing issued")
	})
}

// The commit's guard compares every one of grantFields with what the
// peek returned: a grant whose field changed between Check and the
// commit (here written by hand, as only a grant replaced under its ID
// could) fails it, whichever the field, consuming and issuing nothing.
func TestExchangeCheckIsGuardedOnEveryGrantField(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		for _, field := range grantFields {
			_, _, refresh := h.grant("web", "alice", 24*time.Hour)
			_, gkey, _ := h.s.grantKeys(refresh.GrantID)
			x, issued := h.exchange("web", refresh)
			x.Check = func(*storage.Grant) error {
				return h.rdb.HSet(h.ctx, gkey, field, "changed").Err()
			}
			_, err := h.s.ExchangeToken(h.ctx, x)
			assert.ErrorIs(t, err, storage.ErrNotFound, "%s changed", field)
			consumed, err := h.rdb.HGet(h.ctx, tokenKey(h.s.grantBase(refresh.GrantID), refresh.Hash), "consumed").Result()
			require.NoError(t, err)
			assert.Equal(t, "0", consumed, "%s changed: not consumed", field)
			n, err := h.rdb.Exists(h.ctx, tokenKey(h.s.grantBase(refresh.GrantID), issued[1].Hash)).Result()
			require.NoError(t, err)
			assert.Zero(t, n, "%s changed: nothing issued", field)
		}
	})
}

// A refusing Check is returned as is and changes nothing.
func TestExchangeCheckRefusalChangesNothing(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		_, _, refresh := h.grant("web", "alice", 24*time.Hour)
		x, issued := h.exchange("web", refresh)
		refuse := errors.New("refused")
		x.Check = func(*storage.Grant) error { return refuse }
		_, err := h.s.ExchangeToken(h.ctx, x)
		assert.Same(t, refuse, err)
		assert.True(t, h.live(storage.KindRefresh, refresh), "not consumed")
		assert.False(t, h.live(storage.KindAccess, issued[0]), "nothing issued")
	})
}

// Every grant, token and index key carries a TTL, so Redis reclaims them;
// only client records are permanent.
func TestEveryGrantKeyHasTTL(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		require.NoError(t, h.s.CreateClient(h.ctx, &storage.Client{ID: "web", Public: true}))
		_, _, refresh := h.grant("web", "alice", 24*time.Hour)
		_, _, other := h.grant("web", "", 2*time.Hour) // client_credentials: no user index
		x, issued := h.exchange("web", refresh)
		_, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		require.NoError(t, h.s.ExtendToken(h.ctx, issued[0], h.clk.Now().Add(48*time.Hour)))
		require.NoError(t, h.s.RevokeGrant(h.ctx, other.GrantID))

		keys, err := keysWithPrefix(h.ctx, h.rdb, h.prefix)
		require.NoError(t, err)
		var checked int
		for _, k := range keys {
			rest := strings.TrimPrefix(k, h.prefix)
			if strings.HasPrefix(rest, "client:") || rest == "clients" {
				continue
			}
			ttl, err := h.rdb.PTTL(h.ctx, k).Result()
			require.NoError(t, err)
			assert.Greater(t, ttl, time.Duration(0), "PTTL of %s", rest)
			limit := 48*time.Hour + time.Minute
			if strings.HasPrefix(rest, "user:") || strings.HasPrefix(rest, "cli:") {
				// An index keeps its grants to their horizon, a quarter more,
				// and the skew grace.
				limit += 12*time.Hour + indexSkewGrace
			}
			assert.LessOrEqual(t, ttl, limit, "PTTL of %s", rest)
			checked++
		}
		// 2 grant hashes (the revoked one is a tombstone), 1 token set and
		// 4 tokens of the live grant (the revoked grant had no consumed
		// token, so nothing else of it stays), 1 user and 1 client index.
		assert.Equal(t, 2+1+4+2, checked, "keys checked: %v", keys)
	})
}

// A token's TTL follows its expiry, measured on the store's clock, and is
// at least 1 ms even for a token already past.
func TestTTLFollowsStoreClock(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		_, access, _ := h.grant("web", "alice", 24*time.Hour)
		key := tokenKey(h.s.grantBase(access.GrantID), access.Hash)
		ttl, err := h.rdb.PTTL(h.ctx, key).Result()
		require.NoError(t, err)
		assert.InDelta(t, time.Hour.Milliseconds(), ttl.Milliseconds(), 5000)

		h.clk.Advance(2 * time.Hour) // the store's clock, not Redis's
		require.ErrorIs(t, h.s.ExtendToken(h.ctx, access, h.clk.Now().Add(time.Hour)), storage.ErrNotFound, "expired by the store clock")
	})
}

// The user and client indexes drop expired grants whenever they are
// written and expire with their latest grant.
func TestIndexesDoNotLeak(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		old, _, _ := h.grant("web", "alice", time.Hour)
		h.clk.Advance(2 * time.Hour)
		fresh, _, _ := h.grant("web", "alice", 3*time.Hour)

		for _, key := range []string{h.s.userGrantsKey("alice"), h.s.clientGrantsKey("web")} {
			ids, err := h.rdb.ZRange(h.ctx, key, 0, -1).Result()
			require.NoError(t, err)
			assert.Equal(t, []string{fresh.ID}, ids, "expired %s pruned from %s", old.ID, key)
			ttl, err := h.rdb.PTTL(h.ctx, key).Result()
			require.NoError(t, err)
			// A grant's index entry lives a quarter of its lifetime past
			// it, and the skew grace.
			assert.InDelta(t, (3*time.Hour + 45*time.Minute + indexSkewGrace).Milliseconds(), ttl.Milliseconds(), 5000, "index TTL is its latest grant's horizon and the grace")
		}
	})
}

// An index lives as long as its latest entry, whatever the order of the
// writes: a shorter grant indexed after a longer one does not shorten it,
// or the index would go while the longer grant lives on.
func TestIndexTTLFollowsItsLatestEntry(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.grant("web", "alice", 24*time.Hour)
		h.grant("web", "alice", time.Hour)
		for _, key := range []string{h.s.userGrantsKey("alice"), h.s.clientGrantsKey("web")} {
			ttl, err := h.rdb.PTTL(h.ctx, key).Result()
			require.NoError(t, err)
			assert.InDelta(t, (30*time.Hour + indexSkewGrace).Milliseconds(), ttl.Milliseconds(), 5000, "%s: the 24 h grant's horizon and the grace", key)
		}
	})
}

// An exchange that moves a grant's expiry moves its index entries too, so
// RevokeUser still finds the grant after its first expiry.
func TestIndexFollowsGrantExpiry(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		g, _, refresh := h.grant("web", "alice", time.Hour)
		x, issued := h.exchange("web", refresh) // new refresh token: 24 h
		_, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)

		h.clk.Advance(2 * time.Hour)
		h.grant("web", "alice", time.Hour) // prunes the user index
		score, err := h.rdb.ZScore(h.ctx, h.s.userGrantsKey("alice"), g.ID).Result()
		require.NoError(t, err, "still indexed")
		assert.GreaterOrEqual(t, int64(score), x.Issue[1].ExpiresAt.UnixMilli())

		n, err := h.s.RevokeUser(h.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		assert.False(t, h.live(storage.KindRefresh, issued[1]))
	})
}

// A stale index entry (a grant ID under the wrong user) never revokes the
// grant of someone else.
func TestStaleIndexEntryRevokesNothing(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		g, access, _ := h.grant("web", "alice", time.Hour)
		require.NoError(t, h.rdb.ZAdd(h.ctx, h.s.userGrantsKey("mallory"), goredis.Z{Score: float64(g.ExpiresAt.UnixMilli()), Member: g.ID}).Err())
		require.NoError(t, h.rdb.ZAdd(h.ctx, h.s.clientGrantsKey("evil"), goredis.Z{Score: float64(g.ExpiresAt.UnixMilli()), Member: g.ID}).Err())
		n, err := h.s.RevokeUser(h.ctx, "mallory")
		require.NoError(t, err)
		assert.Zero(t, n)
		n, err = h.s.RevokeClient(h.ctx, "evil")
		require.NoError(t, err)
		assert.Zero(t, n)
		assert.True(t, h.live(storage.KindAccess, access))
	})
}

// A backend failure is an outage error naming the operation, not
// ErrNotFound, and carries no key.
func TestOutageIsNotNotFound(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	s := New(c, Config{})
	gid, err := token.NewGrantID()
	require.NoError(t, err)
	_, ref, err := token.New(storage.KindAccess, gid)
	require.NoError(t, err)
	_, err = s.LookupToken(t.Context(), storage.KindAccess, ref)
	require.Error(t, err)
	assert.NotErrorIs(t, err, storage.ErrNotFound)
	assert.True(t, strings.HasPrefix(err.Error(), "redis: lookup token: "), err.Error())
	assert.NotContains(t, err.Error(), ref.Hash.String())
	_, err = s.GetClient(t.Context(), "web")
	require.Error(t, err, "GetClient must report the outage")
	assert.NotErrorIs(t, err, storage.ErrNotFound)
	assert.True(t, strings.HasPrefix(err.Error(), "redis: get client: "), err.Error())
}

func TestNewDefaults(t *testing.T) {
	s := New(nil, Config{})
	assert.Equal(t, DefaultPrefix, s.prefix)
	assert.WithinDuration(t, time.Now(), s.now(), time.Minute)
	assert.Equal(t, "oauth2:{abc}:g", grantKey(s.grantBase("abc")))
}

// instant encodes times so that the scripts' string comparison orders them.
func TestInstantOrdersAsTime(t *testing.T) {
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	cases := map[string][2]time.Time{
		"one nanosecond apart": {base, base.Add(time.Nanosecond)},
		"different lengths":    {time.Unix(0, 999), time.Unix(0, 1000)},
		"before 1970 clamps":   {time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), base},
		"far future clamps":    {base, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	lt := func(a, b string) bool {
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return a < b
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			a, b := instant(c[0]), instant(c[1])
			assert.True(t, lt(a, b), "%s < %s", a, b)
			assert.False(t, lt(b, a))
		})
	}
}

// A grant written before the uname field existed reads as an empty
// Username, and is exchanged (with and without a Check guard) as before.
func TestGrantWithoutUsernameField(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		g, access, refresh := h.grant("web", "alice", 24*time.Hour)
		require.NoError(t, h.rdb.HDel(h.ctx, grantKey(h.s.grantBase(g.ID)), "uname", "ix").Err())
		ti, err := h.s.LookupToken(h.ctx, storage.KindAccess, access)
		require.NoError(t, err)
		assert.Empty(t, ti.Grant.Username)

		x, next := h.exchange("web", refresh)
		x.Check = func(*storage.Grant) error { return nil }
		got, err := h.s.ExchangeToken(h.ctx, x)
		require.NoError(t, err)
		assert.Empty(t, got.Username)
		assert.True(t, h.live(storage.KindRefresh, next[1]))
	})
}

// RevokeUser removes the index entries of the grants it revoked and keeps
// the entry of a grant that does not exist yet: CreateGrant may be about to
// write it (its index script ran, its create script has not), and without
// the entry that grant would survive every later RevokeUser.
func TestRevokeUserKeepsEntriesOfGrantsNotYetWritten(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		g, access, _ := h.grant("web", "alice", time.Hour)
		require.NoError(t, h.s.index(h.ctx, h.clk.Now(), "coming", "alice", "web", h.clk.Now().Add(time.Hour)))

		n, err := h.s.RevokeUser(h.ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		assert.False(t, h.live(storage.KindAccess, access))
		ids, err := h.rdb.ZRange(h.ctx, h.s.userGrantsKey("alice"), 0, -1).Result()
		require.NoError(t, err)
		assert.Equal(t, []string{"coming"}, ids, "the revoked grant %s's entry is gone, the coming one's kept", g.ID)
	})
}

// A client written before the revision field existed reads as revision 1,
// and updates compare and count from there.
func TestClientWithoutRevisionField(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		oldHash := storage.HashGeneratedSecret("old")
		old := `{"id":"old","secret_hash":"` + oldHash + `","grant_types":["password"],"created_at":"1700000000000000000"}`
		require.NoError(t, h.rdb.Set(h.ctx, h.s.clientKey("old"), old, 0).Err())
		c, err := h.s.GetClient(h.ctx, "old")
		require.NoError(t, err)
		assert.Equal(t, int64(1), c.Revision)
		assert.Equal(t, []string{"password"}, c.GrantTypes)

		stale := *c
		c.Disabled = true
		require.NoError(t, h.s.UpdateClient(h.ctx, c))
		assert.Equal(t, int64(2), c.Revision)
		stale.SecretHash = storage.HashGeneratedSecret("other")
		assert.ErrorIs(t, h.s.UpdateClient(h.ctx, &stale), storage.ErrConflict)

		got, err := h.s.GetClient(h.ctx, "old")
		require.NoError(t, err)
		assert.True(t, got.Disabled)
		assert.Equal(t, oldHash, got.SecretHash)
		assert.Equal(t, int64(2), got.Revision)
	})
}

// Exchange.Bind is stored in the grant hash's binding field, the one a
// password grant's binding is created in, with and without a Check.
func TestExchangeBindIsTheGrantsBindingField(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		for _, withCheck := range []bool{false, true} {
			g, _, refresh := h.grant("web", "alice", 24*time.Hour)
			x, _ := h.exchange("web", refresh)
			x.Bind = "b1.the-client"
			if withCheck {
				x.Check = func(*storage.Grant) error { return nil }
			}
			_, err := h.s.ExchangeToken(h.ctx, x)
			require.NoError(t, err)
			binding, err := h.rdb.HGet(h.ctx, grantKey(h.s.grantBase(g.ID)), "binding").Result()
			require.NoError(t, err)
			assert.Equal(t, "b1.the-client", binding, "Check: %v", withCheck)
		}
	})
}

// New refuses a prefix with an empty hash tag, which its doc forbids: on
// a cluster no grant's keys would share a slot. Other braces are hash
// tags as documented.
func TestNewRefusesAnEmptyHashTag(t *testing.T) {
	for _, p := range []string{"{}", "app{}:", "{}{app}:"} {
		assert.PanicsWithValue(t, `redis: Config.Prefix "`+p+`" contains an empty hash tag "{}"`, func() { New(nil, Config{Prefix: p}) }, p)
	}
	for _, p := range []string{"", "{app}:", "app{", "app}:"} {
		assert.NotPanics(t, func() { New(nil, Config{Prefix: p}) }, p)
	}
}

// An interrupted CreateClient (its index entry written, its SET NX not)
// leaves an entry without a client, which ListClients skips: the clients
// that exist are listed, with no error.
func TestListClientsSkipsAnEntryWithoutClient(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		require.NoError(t, h.s.CreateClient(h.ctx, &storage.Client{ID: "a", Public: true}))
		require.NoError(t, h.s.CreateClient(h.ctx, &storage.Client{ID: "c", Public: true}))
		require.NoError(t, h.rdb.ZAdd(h.ctx, h.s.clientIndexKey(), goredis.Z{Member: "b"}).Err())

		list, err := h.s.ListClients(h.ctx)
		require.NoError(t, err)
		ids := make([]string, len(list))
		for i, c := range list {
			ids[i] = c.ID
		}
		assert.Equal(t, []string{"a", "c"}, ids)
	})
}

// A stored client that does not decode fails ListClients, as it fails
// GetClient: the list does not leave it out as if it did not exist.
func TestListClientsReportsAClientThatDoesNotDecode(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		require.NoError(t, h.s.CreateClient(h.ctx, &storage.Client{ID: "a", Public: true}))
		require.NoError(t, h.s.CreateClient(h.ctx, &storage.Client{ID: "b", Public: true}))
		require.NoError(t, h.rdb.Set(h.ctx, h.s.clientKey("b"), "{not json", 0).Err())

		_, err := h.s.GetClient(h.ctx, "b")
		require.Error(t, err)
		list, err := h.s.ListClients(h.ctx)
		assert.Error(t, err, "ListClients must report the client it cannot read, got %d clients", len(list))
	})
}
