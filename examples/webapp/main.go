// Command webapp is a chi web app whose /api routes serve browsers with a
// session cookie and API clients with a bearer token, on the same routes
// (policy.CookieOrBearer, the Pyramid seed's combined policy), with scopes
// checked by policy.Require.
//
// It is its own Go module, so that chi never enters the core module's
// dependencies. From this directory:
//
//	go run .
//
// Log in with a cookie and add a note:
//
//	curl -c jar -d username=johndoe -d password=foobar42 http://127.0.0.1:8083/login
//	curl -b jar -H 'Content-Type: application/json' -d '{"text":"hello"}' http://127.0.0.1:8083/api/notes
//
// or get a bearer token with the client secret the server prints and read
// them:
//
//	curl -u notes-cli:<secret> -d grant_type=password -d username=johndoe \
//	    -d password=foobar42 -d scope=notes:read http://127.0.0.1:8083/oauth2/token
//	curl -H 'Authorization: Bearer <access_token>' http://127.0.0.1:8083/api/notes
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/loopback"
	"github.com/oauth2provider/oauth2provider/storage"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8083", "listen address (plain HTTP: keep it on loopback)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *addr); err != nil {
		log.Fatal(err)
	}
}

func serve(ctx context.Context, addr string) error {
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		return err
	}
	var users authcheck.Static
	if err := users.Add("johndoe", "foobar42", "1"); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return err
	}
	// Plain HTTP on loopback only: anywhere else a login would send the
	// password and a session cookie that is not Secure in clear. Off
	// loopback put the app behind a TLS-terminating proxy (and list it in
	// provider.Config.TrustedProxies) or serve TLS.
	onLoopback := loopback.Addr(addr)
	if !onLoopback {
		log.Printf("webapp: %s is not a loopback address: plain HTTP is refused there, so logins and token requests will fail", addr)
	}
	h, err := newRouter(ctx, options{clientSecretHash: hash, insecure: onLoopback, users: &users})
	if err != nil {
		return err
	}
	srv := newHTTPServer(addr, h)
	// Shutdown returns once the requests in flight are answered;
	// ListenAndServe returns as soon as it starts, so wait for Shutdown:
	// serve returns when they are answered.
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Printf("serving on http://%s\n  user johndoe / foobar42\n  client %s / %s (shown once)\n", addr, apiClientID, secret)
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
