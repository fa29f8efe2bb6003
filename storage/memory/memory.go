package memory

import (
	"hash/maphash"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
)

// Compile-time checks that Store implements the store contracts.
var (
	_ storage.ClientStore     = (*Store)(nil)
	_ storage.TokenStore      = (*Store)(nil)
	_ storage.TokenInfoFiller = (*Store)(nil)
)

// numShards is the number of grant shards; a power of two.
const numShards = 64

// Config configures a [Store].
type Config struct {
	// Now returns the current time, against which expiry is judged. Nil
	// means time.Now.
	Now func() time.Time
}

// Store is an in-memory client and token store. It is safe for concurrent
// use. The zero value is not usable; create one with [New].
type Store struct {
	now     func() time.Time
	clients clientMap
	seed    maphash.Seed
	shards  [numShards]shard
}

// New returns an empty store.
func New(cfg Config) *Store {
	s := &Store{now: cfg.Now, seed: maphash.MakeSeed()}
	if s.now == nil {
		s.now = time.Now
	}
	for i := range s.shards {
		s.shards[i].init()
	}
	return s
}

// shardOf returns the shard that keeps the grant with the given ID.
func (s *Store) shardOf(grantID string) *shard {
	return &s.shards[maphash.String(s.seed, grantID)&(numShards-1)]
}
