package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The token endpoint answers the code exchange with the tokens, so the
// program refuses an issuer it would reach in clear over the network,
// before listening or opening anything: plain http is for a provider on
// this machine, as in examples/client.
func TestRunRefusesPlainHTTPOffThisMachine(t *testing.T) {
	for _, issuer := range []string{"http://auth.example.com", "http://192.0.2.1:8080", "ftp://127.0.0.1", "not a url"} {
		browsed := false
		browse := func(string) error { browsed = true; return nil }
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		_, err := run(ctx, config{issuer: issuer, clientID: "demo-spa", listen: "127.0.0.1:0", timeout: time.Second}, &strings.Builder{}, browse)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "-issuer") || browsed {
			t.Errorf("run with -issuer %s: %v (browsed: %v); want it refused, naming -issuer, before browsing", issuer, err, browsed)
		}
	}
}

// The redirect URI is a loopback one (RFC 8252 §7.3): a -listen address
// off loopback would take the code over plain HTTP from the network, so
// it is refused before anything is opened.
func TestRunRefusesACallbackOffLoopback(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0"} {
		browsed := false
		browse := func(string) error { browsed = true; return nil }
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		_, err := run(ctx, config{issuer: "http://127.0.0.1:1", clientID: "demo-spa", listen: listen, timeout: time.Second}, &strings.Builder{}, browse)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "-listen") || browsed {
			t.Errorf("run with -listen %s: %v (browsed: %v); want it refused, naming -listen, before browsing", listen, err, browsed)
		}
	}
}
