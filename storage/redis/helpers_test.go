package redis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/testclock"
	"github.com/oauth2provider/oauth2provider/internal/testenv"
	"github.com/oauth2provider/oauth2provider/storage/storagetest"
)

// Environment variables naming the servers the tests run against.
const (
	envURL      = "OAUTH2_TEST_REDIS_URL"
	envClusterA = "OAUTH2_TEST_REDIS_CLUSTER_ADDRS"
)

// topology is one kind of deployment the tests run on.
type topology struct {
	name   string
	client func(t testing.TB) goredis.UniversalClient
}

// topologies are the deployments every test runs on: single node and
// cluster. Each skips with a message when its variable is unset.
var topologies = []topology{
	{"Single", singleClient},
	{"Cluster", clusterClient},
}

var (
	clientsMu sync.Mutex
	clients   = map[string]goredis.UniversalClient{}
)

// shared returns one client per topology for the whole test binary, made
// by mk on first use.
func shared(t testing.TB, name string, mk func() (goredis.UniversalClient, error)) goredis.UniversalClient {
	t.Helper()
	clientsMu.Lock()
	defer clientsMu.Unlock()
	if c, ok := clients[name]; ok {
		return c
	}
	c, err := mk()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.Ping(ctx).Err(), "ping %s Redis", name)
	clients[name] = c
	return c
}

func singleClient(t testing.TB) goredis.UniversalClient {
	t.Helper()
	url := testenv.Getenv(t, envURL, "set it to a Redis URL such as redis://127.0.0.1:6379/0 to run the single-node tests")
	return shared(t, "single", func() (goredis.UniversalClient, error) {
		opt, err := goredis.ParseURL(url)
		if err != nil {
			return nil, err
		}
		return goredis.NewClient(opt), nil
	})
}

func clusterClient(t testing.TB) goredis.UniversalClient {
	t.Helper()
	addrs := testenv.Getenv(t, envClusterA, "start a cluster with `bash scripts/redis-cluster.sh` and export the addresses it prints to run the cluster tests")
	return shared(t, "cluster", func() (goredis.UniversalClient, error) {
		return goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: strings.Split(addrs, ",")}), nil
	})
}

// randomPrefix returns a key prefix no other test uses.
func randomPrefix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return "oauth2test:" + hex.EncodeToString(b) + ":"
}

// forEachNode calls fn on every master of a cluster, or on the client
// itself otherwise.
func forEachNode(ctx context.Context, c goredis.UniversalClient, fn func(ctx context.Context, c goredis.UniversalClient) error) error {
	if cc, ok := c.(*goredis.ClusterClient); ok {
		var mu sync.Mutex
		return cc.ForEachMaster(ctx, func(ctx context.Context, n *goredis.Client) error {
			mu.Lock() // keep fn simple: one node at a time
			defer mu.Unlock()
			return fn(ctx, n)
		})
	}
	return fn(ctx, c)
}

// keysWithPrefix returns every key starting with prefix, sorted.
func keysWithPrefix(ctx context.Context, c goredis.UniversalClient, prefix string) ([]string, error) {
	var keys []string
	err := forEachNode(ctx, c, func(ctx context.Context, n goredis.UniversalClient) error {
		it := n.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for it.Next(ctx) {
			keys = append(keys, it.Val())
		}
		return it.Err()
	})
	sort.Strings(keys)
	return keys, err
}

// deleteKeys deletes every key starting with prefix.
func deleteKeys(ctx context.Context, c goredis.UniversalClient, prefix string) error {
	keys, err := keysWithPrefix(ctx, c, prefix)
	if err != nil {
		return err
	}
	for _, k := range keys { // one by one: keys are on many slots
		if err := c.Del(ctx, k).Err(); err != nil {
			return err
		}
	}
	return nil
}

// dump returns every key under prefix with its value, as text.
func dump(ctx context.Context, c goredis.UniversalClient, prefix string) ([]byte, error) {
	keys, err := keysWithPrefix(ctx, c, prefix)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for _, k := range keys {
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			return nil, err
		}
		var v any
		switch typ {
		case "string":
			v, err = c.Get(ctx, k).Result()
		case "hash":
			v, err = c.HGetAll(ctx, k).Result()
		case "zset":
			v, err = c.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "set":
			v, err = c.SMembers(ctx, k).Result()
		case "none": // expired meanwhile
			continue
		default:
			return nil, fmt.Errorf("unexpected type %s of %s", typ, k)
		}
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&buf, "%s %s %v\n", k, typ, v)
	}
	return buf.Bytes(), nil
}

// newStore returns a store with a fresh prefix on c, whose keys are
// deleted when the test ends.
func newStore(t testing.TB, c goredis.UniversalClient, now func() time.Time) (*Store, string) {
	t.Helper()
	prefix := randomPrefix(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := deleteKeys(ctx, c, prefix); err != nil {
			t.Errorf("delete test keys: %v", err)
		}
	})
	return New(c, Config{Prefix: prefix, Now: now}), prefix
}

// factory returns the conformance suite's factory on the topology.
func factory(tp topology) storagetest.Factory {
	return func(t *testing.T, now func() time.Time) storagetest.Backend {
		c := tp.client(t)
		s, prefix := newStore(t, c, now)
		return storagetest.Backend{
			Clients: s,
			Tokens:  s,
			Dump:    func(ctx context.Context) ([]byte, error) { return dump(ctx, c, prefix) },
		}
	}
}

// fakeClock is a controllable clock, safe for concurrent use.
type fakeClock = testclock.Clock

// newFakeClock returns a controllable clock for the package's own tests,
// a little in the future of the real time (Redis TTLs follow the real
// one).
func newFakeClock() *fakeClock {
	return testclock.New(time.Now().UTC().Truncate(time.Second).Add(time.Minute))
}

// The key layout spelled out key by key, for the tests to check
// grantKeys and to reach keys directly.

// grantBase returns "<prefix>{<grantID>}", the start of every key of the grant.
func (s *Store) grantBase(grantID string) string { return s.prefix + "{" + grantID + "}" }

// grantKey is the grant hash.
func grantKey(base string) string { return base + ":g" }

// tokenSetKey is the sorted set of the grant's token hashes.
func tokenSetKey(base string) string { return base + ":ts" }
