// Package servetest checks, for tests, an example program's real serving
// path: it starts on a free loopback port, answers HTTP and stops when
// its context ends.
package servetest

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// StartsAndStops runs serve on a free loopback address and checks that it
// answers HTTP within 10 s and returns nil within 15 s of its context's
// end.
func StartsAndStops(t *testing.T, serve func(ctx context.Context, addr string) error) {
	t.Helper()
	_, stop := start(t, "127.0.0.1", serve)
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// StartOn runs serve on a free port of host ("0.0.0.0" to listen on every
// interface), waits until it answers HTTP on 127.0.0.1 (within 10 s), and
// returns that base URL ("http://127.0.0.1:port"). It stops serve when t
// ends.
func StartOn(t *testing.T, host string, serve func(ctx context.Context, addr string) error) string {
	t.Helper()
	base, stop := start(t, host, serve)
	t.Cleanup(func() { _ = stop() })
	return base
}

// start runs serve on a free port of host until it answers HTTP, and
// returns its loopback base URL and a function that ends its context and
// returns what serve returned (failing t if it does not within 15 s).
func start(t *testing.T, host string, serve func(ctx context.Context, addr string) error) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + net.JoinHostPort("127.0.0.1", port)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, net.JoinHostPort(host, port)) }()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop when its context ended")
			return nil
		}
	}

	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get(base + "/")
		if err == nil {
			_ = resp.Body.Close()
			return base, stop
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve returned before answering: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			_ = stop()
			t.Fatalf("serve did not answer on %s: %v", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BoundsEveryPhase fails t unless srv bounds every phase of a connection:
// without a timeout a client that sends its headers, its body or its next
// request slowly (or never) holds a connection and a goroutine for as
// long as it likes. ReadTimeout covers the headers too, so a longer
// ReadHeaderTimeout would never apply.
func BoundsEveryPhase(t *testing.T, srv *http.Server) {
	t.Helper()
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s is %v: want a positive bound", name, d)
		}
	}
	if srv.ReadHeaderTimeout > srv.ReadTimeout {
		t.Errorf("ReadHeaderTimeout %v is longer than ReadTimeout %v, which covers the headers too", srv.ReadHeaderTimeout, srv.ReadTimeout)
	}
}
