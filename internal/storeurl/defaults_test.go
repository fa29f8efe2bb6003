package storeurl

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/internal/testenv"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/redis"
)

// A redis URL without prefix= keeps the store under redis.DefaultPrefix
// and the limiter under that prefix + "limit:" (redis.DefaultLimiterPrefix),
// as the docs say: not under a bare "limit:" that another app's limiter
// on the same Redis might use too.
func TestOpenRedisDefaultPrefixes(t *testing.T) {
	ctx := context.Background()
	base := testenv.Getenv(t, storeurltest.EnvRedis, "set it to a Redis URL such as redis://127.0.0.1:6379/0 to run this test")
	opt, err := goredis.ParseURL(base)
	require.NoError(t, err)
	rdb := goredis.NewClient(opt)
	defer rdb.Close()

	s, err := Open(ctx, base, Options{})
	require.NoError(t, err)
	defer s.Close()
	key := storeurltest.UniqueName(t)
	want := "rate:" + redis.DefaultPrefix + "limit:" + key
	t.Cleanup(func() { rdb.Del(context.Background(), want) })
	_, err = s.Limiter.Fail(ctx, key, storage.Rate{Burst: 2, Every: time.Minute})
	require.NoError(t, err)
	n, err := rdb.Exists(ctx, want).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "no key %s", want)
	assert.Equal(t, redis.DefaultLimiterPrefix, redis.DefaultPrefix+"limit:")
}
