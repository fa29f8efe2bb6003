// Package storeurltest gives tests a store URL of their own on the test
// servers named by OAUTH2_TEST_POSTGRES_URL and OAUTH2_TEST_REDIS_URL: a
// fresh Postgres schema or Redis key prefix, removed when the test ends.
// A test skips with a clear message when the variable is unset.
package storeurltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/testenv"
)

// Environment variables naming the test servers.
const (
	EnvPostgres     = "OAUTH2_TEST_POSTGRES_URL"
	EnvRedis        = "OAUTH2_TEST_REDIS_URL"
	EnvRedisCluster = "OAUTH2_TEST_REDIS_CLUSTER_ADDRS" // host:port,host:port,...
)

// Each runs fn as a subtest on every networked store (Postgres, Redis and
// Redis Cluster), each with a store URL of its own made by [Postgres],
// [Redis] or [RedisCluster]; a subtest whose server is not configured
// skips.
func Each(t *testing.T, fn func(t *testing.T, storeURL string)) {
	t.Helper()
	for _, b := range []struct {
		name string
		url  func(testing.TB) string
	}{
		{"Postgres", Postgres},
		{"Redis", Redis},
		{"RedisCluster", RedisCluster},
	} {
		t.Run(b.name, func(t *testing.T) { fn(t, b.url(t)) })
	}
}

// Postgres returns a postgres URL whose connections see a new, empty
// schema (through search_path), dropped when t ends.
func Postgres(t testing.TB) string {
	t.Helper()
	base := testenv.Getenv(t, EnvPostgres, "set it to a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run this test")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	schema := UniqueName(t)
	admin, err := pgx.Connect(ctx, base)
	require.NoError(t, err)
	defer func() { _ = admin.Close(context.Background()) }()
	_, err = admin.Exec(ctx, "create schema "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test schema: %v", err)
			return
		}
		defer func() { _ = admin.Close(context.Background()) }()
		if _, err := admin.Exec(ctx, "drop schema "+schema+" cascade"); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	return WithParam(base, "search_path", schema)
}

// Redis returns a redis URL with a new key prefix, whose keys are deleted
// when t ends.
func Redis(t testing.TB) string {
	t.Helper()
	base := testenv.Getenv(t, EnvRedis, "set it to a Redis URL such as redis://127.0.0.1:6379/0 to run this test")
	prefix := UniqueName(t) + ":"
	t.Cleanup(func() {
		opt, err := goredis.ParseURL(base)
		if err != nil {
			t.Errorf("delete test keys: %v", err)
			return
		}
		rdb := goredis.NewClient(opt)
		defer rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := deleteKeys(ctx, rdb, prefix); err != nil {
			t.Errorf("delete test keys: %v", err)
		}
	})
	return WithParam(base, "prefix", prefix)
}

// RedisCluster returns a redis+cluster URL of the cluster named by
// OAUTH2_TEST_REDIS_CLUSTER_ADDRS with a new key prefix, whose keys are
// deleted from every master when t ends.
func RedisCluster(t testing.TB) string {
	t.Helper()
	addrs := testenv.Getenv(t, EnvRedisCluster, "start a cluster with `bash scripts/redis-cluster.sh` and export the addresses it prints to run this test")
	prefix := UniqueName(t) + ":"
	t.Cleanup(func() {
		c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := c.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
			return deleteKeys(ctx, node, prefix)
		})
		if err != nil {
			t.Errorf("delete test keys: %v", err)
		}
	})
	return WithParam("redis+cluster://"+addrs, "prefix", prefix)
}

// deleteKeys deletes the keys of one Redis node that start with prefix,
// and the limiter's, which start with "rate:" (see storage/redis.Limiter).
func deleteKeys(ctx context.Context, node *goredis.Client, prefix string) error {
	for _, pattern := range []string{prefix + "*", "rate:" + prefix + "*"} {
		it := node.Scan(ctx, 0, pattern, 500).Iterator()
		for it.Next(ctx) {
			if err := node.Del(ctx, it.Val()).Err(); err != nil {
				return err
			}
		}
		if err := it.Err(); err != nil {
			return err
		}
	}
	return nil
}

// UniqueName returns a lower-case identifier no other test run uses.
func UniqueName(t testing.TB) string {
	t.Helper()
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return "oauth2test_" + hex.EncodeToString(b[:])
}

// WithParam returns rawURL with query parameter name set to value.
func WithParam(rawURL, name, value string) string {
	head, query, _ := strings.Cut(rawURL, "?")
	q, _ := url.ParseQuery(query)
	q.Set(name, value)
	return head + "?" + q.Encode()
}
