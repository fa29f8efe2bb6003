package jsclient_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/testenv"
)

// TestNodeUnitTests runs the JavaScript unit tests in test/ with Node's
// built-in test runner, so that go test covers oauth_client.js too.
func TestNodeUnitTests(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Skipf(t, "node not on PATH: skipping the JavaScript unit tests (run `node --test contrib/jsclient/test/` with Node 20+)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "test")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test test/: %v\n%s", err, out)
	}
	t.Logf("node --test test/:\n%s", tail(out, 12))
}

// tail returns the last n lines of out.
func tail(out []byte, n int) []byte {
	for i := len(out) - 2; i >= 0; i-- {
		if out[i] == '\n' {
			n--
			if n == 0 {
				return out[i+1:]
			}
		}
	}
	return out
}
