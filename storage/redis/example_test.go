package redis_test

import (
	"log"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauth2provider/oauth2provider/storage/redis"
)

// A store on a single node. The caller owns the client and closes it.
func ExampleNew() {
	opt, err := goredis.ParseURL("redis://127.0.0.1:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	store := redis.New(rdb, redis.Config{Prefix: "myapp:oauth2:"})
	_ = store // pass it as both the ClientStore and the TokenStore
}

// The same code on Redis Cluster: only the client differs.
func ExampleNew_cluster() {
	rdb := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs: []string{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"},
	})
	defer rdb.Close()
	store := redis.New(rdb, redis.Config{})
	_ = store
}

// Sentinel: a failover client is a UniversalClient too.
func ExampleNew_sentinel() {
	rdb := goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName:    "mymaster",
		SentinelAddrs: []string{"10.0.0.1:26379", "10.0.0.2:26379"},
	})
	defer rdb.Close()
	store := redis.New(rdb, redis.Config{})
	_ = store
}
