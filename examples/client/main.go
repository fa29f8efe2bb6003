// Command client is a Go client of an oauth2provider server, written with
// golang.org/x/oauth2: it logs in with the password grant (RFC 6749 §4.3),
// calls a protected route with an http.Client that refreshes the access
// token by itself (RFC 6749 §6), and revokes the tokens on logout
// (RFC 7009).
//
// Start the quickstart with short-lived access tokens, then run the client
// against it:
//
//	go run ./examples/quickstart -access-ttl 5s
//	go run ./examples/client -server http://127.0.0.1:8080
//
// The defaults are the quickstart's demo client and user. The client
// secret and the password are read from the environment variables
// OAUTH2_CLIENT_SECRET and OAUTH2_PASSWORD when they are set, so that they
// need not appear on a command line.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg := config{
		ClientSecret: envOr("OAUTH2_CLIENT_SECRET", "demo-secret"),
		Password:     envOr("OAUTH2_PASSWORD", "foobar42"),
	}
	flag.StringVar(&cfg.Server, "server", "http://127.0.0.1:8080", "base URL of the oauth2provider server")
	flag.StringVar(&cfg.ClientID, "client-id", "demo-client", "client ID")
	flag.StringVar(&cfg.Username, "username", "johndoe", "resource owner's username")
	flag.StringVar(&cfg.Scope, "scope", "read", "scopes to ask for, space-separated")
	flag.IntVar(&cfg.Calls, "calls", 3, "how many times to call the API")
	flag.DurationVar(&cfg.Pause, "pause", 0, "pause between calls (to see a refresh: longer than the access token's lifetime less 10s, since golang.org/x/oauth2 refreshes a token 10s before it expires)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, time.Minute+time.Duration(cfg.Calls)*cfg.Pause)
	defer cancel()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
