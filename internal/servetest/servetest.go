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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, addr) }()

	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			_ = resp.Body.Close()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve returned before answering: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop when its context ended")
	}
}
