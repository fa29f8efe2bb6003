package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/storage"
)

// The cache holds at most maxCachedClients: past it, a new client is
// cached only once expired entries have been swept to make room.
func TestClientCache_Bounded(t *testing.T) {
	cc := &clientCache{ttl: time.Minute}
	t0 := time.Unix(1_700_000_000, 0)
	for i := range maxCachedClients {
		cc.put(&storage.Client{ID: fmt.Sprint("c", i)}, t0)
	}
	assert.EqualValues(t, maxCachedClients, cc.n.Load())

	cc.put(&storage.Client{ID: "late"}, t0.Add(time.Second))
	assert.Nil(t, cc.get("late", t0.Add(time.Second)), "full of live entries: not cached")
	assert.EqualValues(t, maxCachedClients, cc.n.Load())

	// Replacing a cached client needs no room.
	c0 := &storage.Client{ID: "c0"}
	cc.put(c0, t0.Add(time.Second))
	assert.Same(t, c0, cc.get("c0", t0.Add(time.Second)))
	assert.EqualValues(t, maxCachedClients, cc.n.Load())

	// Once the others expired, a put sweeps them out.
	later := t0.Add(time.Minute)
	cc.put(&storage.Client{ID: "late"}, later)
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
	c := &storage.Client{ID: "a"}
	cc.put(c, t0)
	assert.Same(t, c, cc.get("a", t0.Add(time.Second-1)))
	assert.Nil(t, cc.get("a", t0.Add(time.Second)))
	assert.Nil(t, cc.get("b", t0))
}
