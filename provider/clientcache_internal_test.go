package provider

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// The cache holds at most maxCachedClients: past it, a new client is
// cached only once expired entries have been swept to make room, and a
// cache full of live entries is not walked again before ttl/4.
func TestClientCache_Bounded(t *testing.T) {
	cc := &clientCache{ttl: time.Minute}
	t0 := time.Unix(1_700_000_000, 0)
	for i := range maxCachedClients {
		cc.put(&storage.Client{ID: fmt.Sprint("c", i)}, t0, cc.generation())
	}
	assert.EqualValues(t, maxCachedClients, cc.n.Load())

	at := t0.Add(time.Second)
	cc.put(&storage.Client{ID: "late"}, at, cc.generation())
	assert.Nil(t, cc.get("late", at), "full of live entries: not cached")
	assert.EqualValues(t, maxCachedClients, cc.n.Load())
	assert.Equal(t, at.UnixNano(), cc.sweptAt.Load(), "swept")

	// Replacing a cached client needs no room.
	cc.put(&storage.Client{ID: "c0", FirstParty: true}, at, cc.generation())
	require.NotNil(t, cc.get("c0", at))
	assert.True(t, cc.get("c0", at).FirstParty)
	assert.EqualValues(t, maxCachedClients, cc.n.Load())

	// Within ttl/4 of the last sweep, a miss does not sweep again.
	cc.put(&storage.Client{ID: "late"}, at.Add(cc.ttl/4-1), cc.generation())
	assert.Equal(t, at.UnixNano(), cc.sweptAt.Load(), "not swept again")

	// Once the others expired, a put sweeps them out.
	later := t0.Add(time.Minute)
	cc.put(&storage.Client{ID: "late"}, later, cc.generation())
	assert.NotNil(t, cc.get("late", later))
	assert.NotNil(t, cc.get("c0", later), "c0's entry is still live")
	assert.EqualValues(t, 2, cc.n.Load())

	cc.drop("late")
	cc.drop("late")
	assert.Nil(t, cc.get("late", later))
	assert.EqualValues(t, 1, cc.n.Load())
}

func TestClientCache_Expiry(t *testing.T) {
	cc := &clientCache{ttl: time.Second}
	t0 := time.Unix(1_700_000_000, 0)
	cc.put(&storage.Client{ID: "a"}, t0, cc.generation())
	assert.NotNil(t, cc.get("a", t0.Add(time.Second-1)))
	assert.Nil(t, cc.get("a", t0.Add(time.Second)))
	assert.Nil(t, cc.get("b", t0))
	// A clock that stepped back does not stretch the entry's life.
	assert.NotNil(t, cc.get("a", t0))
	assert.Nil(t, cc.get("a", t0.Add(-1)))
}

// A client read before a drop is not cached after it: a request racing
// DisableClient cannot put back what it dropped.
func TestClientCache_PutAfterDropIsRefused(t *testing.T) {
	cc := &clientCache{ttl: time.Minute}
	t0 := time.Unix(1_700_000_000, 0)
	gen := cc.generation() // the request reads the client...
	cc.drop("a")           // ...DisableClient drops it...
	cc.put(&storage.Client{ID: "a"}, t0, gen)
	assert.Nil(t, cc.get("a", t0), "...and the stale read is not cached")
	assert.Zero(t, cc.n.Load())

	cc.put(&storage.Client{ID: "a"}, t0, cc.generation())
	assert.NotNil(t, cc.get("a", t0), "a read after the drop is")
}

// The entry keeps a copy with its own ID: nothing of the string the
// store returned, which a store may have taken from the request.
func TestClientCache_PutCopies(t *testing.T) {
	cc := &clientCache{ttl: time.Minute}
	t0 := time.Unix(1_700_000_000, 0)
	body := []byte("client_id=abc")
	c := &storage.Client{ID: unsafe.String(&body[10], 3)}
	cc.put(c, t0, cc.generation())
	got := cc.get("abc", t0)
	require.NotNil(t, got)
	assert.NotSame(t, c, got)
	assert.NotSame(t, unsafe.StringData(c.ID), unsafe.StringData(got.ID))
	copy(body[10:], "xyz")
	assert.Equal(t, "abc", got.ID)
}

// storeOnlyClients hides a store's ClientViewer, as a networked store
// has none, so that the client cache is on.
type storeOnlyClients struct{ storage.ClientStore }

// Only a client that a later hit could serve is cached: one with a secret
// a person chose, or that may not use the grant type, authenticates (the
// grant handler may refuse it) but is judged afresh every time, so an
// entry of it would only take the room of a client the cache can serve
// (maxCachedClients).
func TestClientCache_OnlyServableClientsAreCached(t *testing.T) {
	st := memory.New(memory.Config{})
	gen := storage.HashGeneratedSecret("generated-secret-0123456789abcdefghijklmnop")
	chosen, err := storage.HashSecret("correct horse")
	require.NoError(t, err)
	for _, c := range []storage.Client{
		{ID: "servable", SecretHash: gen, GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken}},
		{ID: "chosen", SecretHash: chosen, GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken}},
		{ID: "no-refresh", SecretHash: gen, GrantTypes: []string{storage.GrantPassword}},
	} {
		require.NoError(t, st.CreateClient(context.Background(), &c))
	}
	p, err := New(Config{Clients: storeOnlyClients{st}, Tokens: st, ClientCacheTTL: time.Minute, AllowInsecureHTTP: true})
	require.NoError(t, err)
	require.NotNil(t, p.clients)
	auth := func(id, secret string) {
		t.Helper()
		r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader("grant_type=refresh_token"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(id, secret)
		f, e := p.parseForm(httptest.NewRecorder(), r)
		require.Nil(t, e)
		_, e = p.authenticateClient(r, f, storage.GrantRefreshToken)
		require.Nil(t, e, "%s authenticates", id)
	}
	auth("servable", "generated-secret-0123456789abcdefghijklmnop")
	auth("chosen", "correct horse")
	auth("no-refresh", "generated-secret-0123456789abcdefghijklmnop")
	now := p.now()
	assert.NotNil(t, p.clients.get("servable", now))
	assert.Nil(t, p.clients.get("chosen", now))
	assert.Nil(t, p.clients.get("no-refresh", now))
	assert.EqualValues(t, 1, p.clients.n.Load())
}
