// Package testenv decides, for tests, what a missing test service means:
// a skip on a developer's machine, a failure in CI. The README's test
// command starts every service and exports its address, so in CI a test
// that would skip is a broken set-up, never a reason to skip. It also
// stands in for a service that never answers (SilentServer).
package testenv

import (
	"fmt"
	"net"
	"os"
	"testing"
)

// InCI reports whether the tests run in CI (the CI environment variable
// is set and not "false").
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// Skipf skips t with the formatted reason, or fails it in CI.
func Skipf(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("in CI every test runs: %s", msg)
		return
	}
	t.Skip(msg)
}

// Getenv returns the value of the environment variable name; when it is
// empty, t is skipped with hint (or failed in CI).
func Getenv(t testing.TB, name, hint string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Skipf(t, "%s is not set: %s", name, hint)
	}
	return v
}

// SilentServer listens on a loopback port, accepts every connection and
// neither answers nor closes one before the test ends (a hung server, a
// firewall that holds the socket), and returns its address (host:port).
func SilentServer(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // hold it open, say nothing
		}
	}()
	return ln.Addr().String()
}
