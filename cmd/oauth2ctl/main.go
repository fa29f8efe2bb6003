// Command oauth2ctl is the operator's tool for an oauth2provider
// deployment on PostgreSQL or Redis: it applies the Postgres schema
// migrations, registers and manages clients and revokes tokens.
//
// Usage:
//
//	oauth2ctl [--store URL] <command> [flags]
//
//	migrate                      apply the Postgres schema migrations
//	client create [flags]        register a client; prints its secret once
//	client list                  list the registered clients and their redirect
//	                             URIs (never secrets)
//	client update ID [flags]     change a client's redirect URIs, grant types,
//	                             scopes, default scopes or first-party mark
//	client disable ID            disable a client and revoke its tokens
//	client enable ID             take a disabled client again
//	client rotate-secret ID      give a client a new secret; prints it once
//	revoke --user ID | --client ID
//	                             revoke every token of a user or a client
//
// The store is a URL (see internal/storeurl): postgres://… (or
// postgresql://…), redis://…, rediss://…, redis+cluster://host1:port,host2:port…
// or rediss+cluster://…, given by --store
// (before or after the command) or the OAUTH2_STORE environment variable.
// Every command takes --help. Exit status: 0 success, 1 failure (the store
// could not be reached, the client does not exist, ...), 2 bad usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	goredis "github.com/redis/go-redis/v9"
)

func main() {
	// go-redis logs each failed dial on its own; the command reports the
	// error once.
	goredis.SetLogger(quietLogger{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// quietLogger discards go-redis's log lines.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
