// Command postgres is an oauth2provider server on PostgreSQL with the
// application's own users table: the Pyramid seed's set-up, in Go.
//
// It applies the provider's schema migrations, creates a users table
// (argon2id hashes; bcrypt hashes of an older application are read too and
// upgraded at the next login), checks passwords against it with an
// authcheck.AuthChecker over pgx, runs the janitor that deletes expired
// tokens, and serves the token, revocation, introspection and metadata
// endpoints and GET /api/me behind the bearer policy.
//
// Set-up, against a database of your own:
//
//	export DATABASE_URL='postgres://postgres@127.0.0.1:5432/app?sslmode=disable'
//	go run ./cmd/oauth2ctl --store "$DATABASE_URL" migrate
//	go run ./cmd/oauth2ctl --store "$DATABASE_URL" client create --id shop-web --scopes read,write
//	echo 'foobar42' | go run ./examples/postgres adduser johndoe
//	go run ./examples/postgres
//
// oauth2ctl prints the client's secret once; the store keeps only its
// hash. Then get a token and call the API:
//
//	curl -s -u shop-web:<client_secret> -d grant_type=password \
//	    -d username=johndoe -d password=foobar42 http://127.0.0.1:8081/oauth2/token
//	curl -s -H 'Authorization: Bearer <access_token>' http://127.0.0.1:8081/api/me
//
// Plain HTTP is allowed only when -addr is a loopback address; anywhere
// else put the server behind TLS. A database host off loopback needs an
// sslmode in the URL (verify-full, or disable to opt out) or PGSSLMODE.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/oauth2provider/oauth2provider/internal/loopback"
	"github.com/oauth2provider/oauth2provider/internal/storeurl"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	// The default is read after parsing, so that -help never shows
	// $DATABASE_URL, whose password it would print.
	db := flag.String("db", "", "PostgreSQL URL (default $DATABASE_URL)")
	issuer := flag.String("issuer", "", "issuer URL for the metadata document, e.g. https://auth.example.com (default http://<addr> on loopback; required elsewhere)")
	every := flag.Duration("janitor", 5*time.Minute, "how often to delete expired tokens")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: postgres [flags]            serve\n       postgres [flags] adduser NAME  add a user; the password is read from stdin\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *db == "" {
		*db = os.Getenv("DATABASE_URL")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args := flag.Args(); {
	case *db == "":
		err = errors.New("no database: set -db or DATABASE_URL")
	case len(args) == 0:
		err = serve(ctx, *db, *addr, *issuer, *every)
	case len(args) == 2 && args[0] == "adduser":
		err = addUser(ctx, *db, args[1], os.Stdin, os.Stdout)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "postgres:", err)
		os.Exit(1)
	}
}

// newPool opens a pgx pool on dbURL, as oauth2ctl does
// (storeurl.PoolConfig): a host off loopback needs an sslmode
// (verify-full, or disable to opt out), since pgx's default falls back to
// plain text; connection attempts give up after storeurl.DefaultTimeout
// unless the URL sets connect_timeout (pgx would wait without end on a
// database that never answers); and a URL that does not parse is
// reported with pgx's reason but not its quote of the URL, where pgx
// masks the password on a best-effort basis only.
func newPool(ctx context.Context, dbURL string) (*pgxpool.Pool, error) {
	cfg, err := storeurl.PoolConfig(dbURL, storeurl.DefaultTimeout)
	if err != nil {
		return nil, fmt.Errorf("-db: %w", err)
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

// addUser reads a password from in and adds the user.
func addUser(ctx context.Context, dbURL, username string, in io.Reader, out io.Writer) error {
	password, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	password = strings.TrimRight(password, "\r\n")
	if password == "" {
		return errors.New("adduser: empty password on stdin")
	}
	pool, err := newPool(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	users, err := NewUsers(ctx, pool)
	if err != nil {
		return err
	}
	id, err := users.Add(ctx, username, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "user %s has ID %s\n", username, id)
	return nil
}

// serve serves on addr until ctx ends. An empty issuer is http://<addr>
// on loopback, and refused elsewhere: no URL clients can use is known; so
// is an http issuer off loopback.
func serve(ctx context.Context, dbURL, addr, issuer string, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("-janitor %v: want a positive interval", every)
	}
	if issuer == "" {
		if !loopback.Addr(addr) {
			return fmt.Errorf("-issuer is required when -addr %s is not a loopback address: the https URL clients reach this server at", addr)
		}
		issuer = "http://" + addr
	} else if u, err := url.Parse(issuer); err == nil && u.Scheme == "http" && !loopback.Addr(addr) {
		// The provider takes an http issuer only where it serves plain
		// HTTP, which this server does on loopback alone.
		return fmt.Errorf("-issuer %s: off loopback the issuer is the https URL clients reach this server at (through your TLS proxy)", issuer)
	}
	pool, err := newPool(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return err
	}
	a, err := newApp(ctx, pool, options{issuer: issuer, insecure: loopback.Addr(addr)})
	if err != nil {
		return err
	}
	go janitor(ctx, a.store, every, slog.Default())

	srv := newHTTPServer(addr, a.handler)
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
	fmt.Printf("serving on http://%s (Ctrl-C to stop)\n", addr)
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
