// Package testenv decides, for tests, what a missing test service means:
// a skip on a developer's machine, a failure in CI. The README's test
// command starts every service and exports its address, so in CI a test
// that would skip is a broken set-up, never a reason to skip.
package testenv

import (
	"fmt"
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
