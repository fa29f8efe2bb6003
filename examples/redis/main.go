// Command redis is an oauth2provider server on Redis: the Flask seed's
// set-up in Go. Tokens and browser sessions live in Redis (so any number
// of instances can serve them), failed logins are counted in Redis (so the
// brute-force limit holds across instances), every token and session is
// bound to the client IP and User-Agent it was issued to, POST /login sets
// a session cookie, and GET /js/oauth_client.js serves the browser client.
//
//	go run ./examples/redis -redis redis://127.0.0.1:6379/0
//
// then open http://127.0.0.1:8082/ and log in as johndoe / foobar42, or
// get a token for the page's public client:
//
//	curl -s -d grant_type=password -d client_id=web \
//	    -d username=johndoe -d password=foobar42 http://127.0.0.1:8082/oauth2/token
//
// A redis:// URL for another machine is refused, as oauth2ctl refuses
// it: use rediss://, or add tls=disable to go without TLS on a network
// you trust.
//
// The binding key must be the same on every instance: set
// OAUTH2_BINDING_KEY to 32 or more random bytes, base64-encoded
// (openssl rand -base64 32). Without it the example makes a random key, so
// tokens die when it restarts.
//
// On Redis Cluster, pass a *goredis.ClusterClient to newApp instead
// (goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: ...})): the
// store keeps each grant on one slot, so nothing else changes.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/loopback"
	"github.com/oauth2provider/oauth2provider/internal/storeurl"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "listen address")
	// The default is read after parsing, so that -help never shows
	// $REDIS_URL, whose password it would print.
	redisURL := flag.String("redis", "", "Redis URL (default $REDIS_URL, else redis://127.0.0.1:6379/0)")
	prefix := flag.String("prefix", "example:oauth2:", "Redis key prefix")
	flag.Parse()
	if *redisURL == "" {
		*redisURL = envOr("REDIS_URL", "redis://127.0.0.1:6379/0")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *addr, *redisURL, *prefix); err != nil {
		log.Fatal(err)
	}
}

func serve(ctx context.Context, addr, redisURL, prefix string) error {
	// As oauth2ctl reads a store URL: the grants and the client secrets'
	// hashes must not cross the network in clear, so a redis:// URL for
	// another machine is refused unless it says tls=disable (use
	// rediss://), and an error never quotes the URL, whose password
	// go-redis's own errors would show.
	// A store URL of oauth2ctl or the quickstart carries the key prefix
	// as prefix= (and the limiter's as limiter_prefix=), which go-redis
	// refuses as "unexpected option": here the prefix is a flag, and the
	// limiter's follows it.
	if u, err := url.Parse(redisURL); err == nil {
		for _, p := range []string{"prefix", "limiter_prefix"} {
			if u.Query().Has(p) {
				return fmt.Errorf("-redis: the URL's %s= is a store URL's parameter (oauth2ctl, the quickstart): give the key prefix with -prefix (the limiter's is the prefix + \"limit:\")", p)
			}
		}
	}
	opt, err := storeurl.RedisOptions(redisURL, storeurl.DefaultTimeout)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	rdb := goredis.NewClient(opt)
	defer rdb.Close()

	key, err := bindingKey()
	if err != nil {
		return err
	}
	// The Flask seed's credentials list. A real app checks its own user
	// database: see examples/postgres and docs/user-database.md.
	var users authcheck.Static
	if err := users.Add("johndoe", "foobar42", "1"); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return err
	}
	h, err := newApp(ctx, rdb, options{
		prefix:     prefix,
		bindingKey: key,
		insecure:   loopback.Addr(addr), // plain HTTP on loopback only
		users:      &users,
	})
	if err != nil {
		return err
	}

	srv := newHTTPServer(addr, h)
	// Shutdown returns once the requests in flight are answered;
	// ListenAndServe returns as soon as it starts, so wait for it before
	// the deferred closing of the store.
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Printf("serving on http://%s (user johndoe / foobar42; Ctrl-C to stop)\n", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-stopped
	return nil
}

// newHTTPServer returns the server for h on addr. Its timeouts bound how
// long a slow or idle client may hold a connection: the request's
// headers must arrive within 10 s and the whole request within 30 s,
// the response must be written within 30 s, and an idle keep-alive
// connection is closed after 2 minutes.
func newHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
}

// bindingKey reads the token binding key from OAUTH2_BINDING_KEY, or makes
// a random one for this process.
func bindingKey() ([]byte, error) {
	if v := os.Getenv("OAUTH2_BINDING_KEY"); v != "" {
		key, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, errors.New("OAUTH2_BINDING_KEY is not base64")
		}
		return key, nil // provider.New refuses a key shorter than 32 bytes
	}
	key := make([]byte, 32)
	_, err := rand.Read(key)
	log.Print("OAUTH2_BINDING_KEY is not set: using a random key; tokens will not survive a restart")
	return key, err
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
