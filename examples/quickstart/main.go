// Command quickstart runs a complete OAuth 2.0 authorization server with
// demo fixtures, for trying the library in five minutes:
//
//	go run ./examples/quickstart
//
// Flags: -addr (127.0.0.1:8080), -store (memory, or a postgres:// or
// redis:// URL), -access-ttl (1h), -refresh-ttl (720h), -bind (bind tokens
// to User-Agent and client IP).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/loopback"
)

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address")
	flag.StringVar(&o.store, "store", "memory", "memory, or a postgres://… or redis://… URL")
	flag.DurationVar(&o.accessTTL, "access-ttl", time.Hour, "access token lifetime")
	flag.DurationVar(&o.refreshTTL, "refresh-ttl", 720*time.Hour, "refresh token lifetime")
	flag.BoolVar(&o.bind, "bind", false, "bind tokens to User-Agent and client IP")
	flag.Parse()

	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return fmt.Errorf("bad -addr: %w", err)
	}
	o.loopback = loopback.Host(host)

	ln, err := listen(&o)
	if err != nil {
		return err
	}
	app, err := newApp(ctx, o)
	if err != nil {
		_ = ln.Close() // the error worth reporting is the app's
		return err
	}
	defer app.Close()

	srv := newHTTPServer(app.Handler())
	printBanner(os.Stdout, "http://"+ln.Addr().String(), o)
	if !o.loopback {
		slog.Warn("not on a loopback address: the quickstart serves plain HTTP, on which the token endpoints issue nothing off loopback; " +
			"use -addr 127.0.0.1:…, or, in an app of your own, serve TLS or set Config.TrustedProxies to your TLS-terminating proxy")
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop() // a second SIGINT/SIGTERM kills at once, as it would any program
	slog.Info("shutting down")
	return shutdown(srv, 5*time.Second)
}

// newHTTPServer returns the server for h. Its timeouts bound how long a
// slow or idle client may hold a connection: the request's headers must
// arrive within 5 s and the whole request within 30 s, the response
// must be written within 30 s, and an idle keep-alive connection is
// closed after 2 minutes.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
}

// shutdown stops srv: it lets the requests in progress finish for up to
// grace, then closes the connections still open. A connection that has
// not sent a request yet (a browser's preconnected socket, a readiness
// probe) counts as busy for its first 5 s, and would otherwise turn a
// stop on SIGINT/SIGTERM into an error and exit status 1.
func shutdown(srv *http.Server, grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		slog.Warn("closing the connections still open after " + grace.String())
		_ = srv.Close() // its only error would be closing a listener Shutdown closed
		return nil
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// listen listens on o.addr. When the port there is not the one listened
// on (-addr 127.0.0.1:0 lets the system choose), it puts the port into
// o.addr, which names the issuer and so every endpoint the metadata
// document advertises.
func listen(o *options) (net.Listener, error) {
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(o.addr)
	_, chosen, err2 := net.SplitHostPort(ln.Addr().String())
	if err == nil && err2 == nil && port != chosen {
		o.addr = net.JoinHostPort(host, chosen)
	}
	return ln, nil
}
