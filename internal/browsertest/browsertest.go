// Package browsertest runs test pages in headless Chromium for the browser
// tests: it finds the binary that scripts/browser.sh installs, loads a page
// with the flags a sandboxed test machine needs, and reads back what the
// page's scripts wrote into <pre id="result">.
//
// A page reports by writing lines into <pre id="result">; Chromium runs its
// scripts for a virtual time budget and then dumps the DOM, so a page needs
// no DevTools connection and no waiting on the test's side.
package browsertest

import (
	"bytes"
	"context"
	"html"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/testenv"
)

// chromiumEnv names the environment variable holding Chromium's path.
const chromiumEnv = "OAUTH2_TEST_CHROMIUM"

// Chromium returns the Chromium binary named by OAUTH2_TEST_CHROMIUM. When
// the variable is unset, t is skipped, or failed in CI (see
// [testenv.Skipf]).
func Chromium(t testing.TB) string {
	t.Helper()
	return testenv.Getenv(t, chromiumEnv, `eval "$(bash scripts/browser.sh)" installs Chromium and sets it`)
}

// Options bound one Chromium run.
type Options struct {
	// Timeout bounds the whole run, Chromium's start-up included; when it
	// passes, Chromium is killed and the test fails. Zero means 30 s.
	Timeout time.Duration
	// VirtualTime is Chromium's --virtual-time-budget: how long, in the
	// page's own clock, its scripts and timers may run before the DOM is
	// dumped. Zero means 10 s.
	VirtualTime time.Duration
}

// Result loads url in headless Chromium (bin, as returned by [Chromium])
// and returns the text of <pre id="result"> in the DOM once the page's
// scripts have run, with HTML escaping undone. It fails t when Chromium
// fails or times out, or when the page it ends on has no such element.
func Result(t testing.TB, bin, url string, opt Options) string {
	t.Helper()
	dom, stderr := dumpDOM(t, bin, url, opt)
	res, ok := resultText(dom)
	if !ok {
		t.Fatalf("no <pre id=\"result\"> in the DOM Chromium ended on:\n%s\nstderr:\n%s", dom, stderr)
	}
	return res
}

// dumpDOM runs Chromium on url and returns its DOM dump and its stderr.
func dumpDOM(t testing.TB, bin, url string, opt Options) (dom, stderr string) {
	t.Helper()
	if opt.Timeout == 0 {
		opt.Timeout = 30 * time.Second
	}
	if opt.VirtualTime == 0 {
		opt.VirtualTime = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(t.Context(), opt.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, // #nosec G204 -- bin is the Chromium the test environment names; url is a test server on loopback
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget="+strconv.FormatInt(opt.VirtualTime.Milliseconds(), 10),
		"--dump-dom", url)
	cmd.WaitDelay = 5 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium failed: %v\nstderr:\n%s", err, errOut.String())
	}
	return out.String(), errOut.String()
}

var resultRE = regexp.MustCompile(`(?s)<pre id="result">(.*?)</pre>`)

// resultText returns the unescaped text of the first <pre id="result"> in
// a DOM dump, and whether there was one.
func resultText(dom string) (string, bool) {
	m := resultRE.FindStringSubmatch(dom)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(m[1]), true
}
