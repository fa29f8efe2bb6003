package storeurl

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/internal/testenv"
)

// pgConnections counts the Postgres server's connections whose
// application_name is name.
func pgConnections(t *testing.T, name string) int {
	t.Helper()
	base := testenv.Getenv(t, storeurltest.EnvPostgres, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	require.NoError(t, err)
	defer func() { _ = conn.Close(context.Background()) }()
	var n int
	require.NoError(t, conn.QueryRow(ctx, "select count(*) from pg_stat_activity where application_name = $1", name).Scan(&n))
	return n
}

// Close of Postgres stores closes the pool's connections, and Migrate
// closes the connection it makes for the migrations: none is left on
// the server.
func TestClosePostgresReleasesEveryConnection(t *testing.T) {
	ctx := context.Background()
	name := storeurltest.UniqueName(t)
	s, err := Open(ctx, storeurltest.WithParam(storeurltest.Postgres(t), "application_name", name), Options{})
	require.NoError(t, err)
	defer s.Close()
	pooled := pgConnections(t, name)
	require.Positive(t, pooled, "the pool keeps the connection Open checked the server on")

	// No garbage collection meanwhile: it would close a connection
	// Migrate dropped without closing (net.Conn's finalizer), hiding it.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	require.NoError(t, s.Migrate(ctx))
	require.Eventually(t, func() bool { return pgConnections(t, name) == pooled }, 5*time.Second, 20*time.Millisecond,
		"Migrate left its connection open")

	_, err = s.Clients.ListClients(ctx)
	require.NoError(t, err)
	s.Close()
	require.Eventually(t, func() bool { return pgConnections(t, name) == 0 }, 5*time.Second, 20*time.Millisecond,
		"Close left connections open")
}

// redisClients counts the Redis server's connections named name.
func redisClients(t *testing.T, name string) int {
	t.Helper()
	opt, err := goredis.ParseURL(testenv.Getenv(t, storeurltest.EnvRedis, ""))
	require.NoError(t, err)
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	list, err := rdb.ClientList(context.Background()).Result()
	require.NoError(t, err)
	n := 0
	for _, line := range strings.Split(list, "\n") {
		if slices.Contains(strings.Fields(line), "name="+name) {
			n++
		}
	}
	return n
}

// Close of Redis stores closes the client's connections.
func TestCloseRedisReleasesEveryConnection(t *testing.T) {
	ctx := context.Background()
	name := storeurltest.UniqueName(t)
	s, err := Open(ctx, storeurltest.WithParam(storeurltest.Redis(t), "client_name", name), Options{})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Clients.ListClients(ctx)
	require.NoError(t, err)
	require.Positive(t, redisClients(t, name))
	s.Close()
	require.Eventually(t, func() bool { return redisClients(t, name) == 0 }, 5*time.Second, 20*time.Millisecond,
		"Close left connections open")
}

// An Open whose server does not answer releases what it made (the pool
// or client and their goroutines) before it returns its error.
func TestOpenReleasesWhatItMadeWhenTheServerDoesNotAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	for _, u := range []string{
		"postgres://u@" + addr + "/db?sslmode=disable",
		"redis://" + addr + "/0",
	} {
		before := runtime.NumGoroutine()
		const opens = 5
		for range opens {
			_, err := Open(context.Background(), u, Options{Timeout: 200 * time.Millisecond})
			require.Error(t, err, u)
		}
		assert.Eventually(t, func() bool { return runtime.NumGoroutine() < before+opens }, 3*time.Second, 20*time.Millisecond,
			"%s: goroutines before %d, after %d failed opens %d", u, before, opens, runtime.NumGoroutine())
	}
}

// Migrate on a Postgres server that went away after Open fails with the
// driver's connect error, named by its step once ("migrate: ", no
// "storeurl:", which Open alone adds), without the URL's password.
func TestMigrateOnAServerGoneSaysSo(t *testing.T) {
	ctx := context.Background()
	u, err := url.Parse(storeurltest.Postgres(t))
	require.NoError(t, err)
	// A proxy to the server, closed once Open has checked it: the
	// migration's own connection finds nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go proxyTo(ln, u.Host)
	u.Host = ln.Addr().String()
	u.User = url.UserPassword(u.User.Username(), "s3cret-pw")
	s, err := Open(ctx, u.String(), Options{})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, ln.Close())

	err = s.Migrate(ctx)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "migrate: "), err.Error())
	assert.Equal(t, 1, strings.Count(err.Error(), "migrate:"), err.Error())
	assert.NotContains(t, err.Error(), "storeurl")
	assert.NotContains(t, err.Error(), "s3cret-pw")
	_, ok := errors.AsType[*pgconn.ConnectError](err)
	assert.True(t, ok, "wraps the driver's error: %v", err)
}

// proxyTo forwards each connection ln accepts to addr, until ln closes.
func proxyTo(ln net.Listener, addr string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			up, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer up.Close()
			go func() { _, _ = io.Copy(up, c) }()
			_, _ = io.Copy(c, up)
		}()
	}
}
