package providertest

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TokenPattern matches a token of the provider of any kind (prefix, then
// 71 characters).
var TokenPattern = regexp.MustCompile(`o(at|rt|st|ac|xx)_[A-Za-z0-9_-]{40,}`)

// LockedBuffer is a bytes.Buffer safe for concurrent writers, such as a
// test's log.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Leaks collects what a leak test checks besides the log: error
// responses (headers and body) and error texts.
type Leaks struct {
	Seen []string
}

// Response records w under name: its status, headers and body.
func (l *Leaks) Response(name string, w *httptest.ResponseRecorder) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d\n", name, w.Code)
	for k, vs := range w.Header() {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString(w.Body.String())
	l.Seen = append(l.Seen, b.String())
}

// Check fails t for each of secrets found in log or in what was
// recorded, and for anything there that looks like a token.
func (l *Leaks) Check(t testing.TB, log string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		assert.NotContains(t, log, s, "the log holds a secret")
		for _, v := range l.Seen {
			assert.NotContains(t, v, s, "a response or error holds a secret")
		}
	}
	assert.Empty(t, TokenPattern.FindAllString(log, 3), "the log holds a token")
	for _, v := range l.Seen {
		assert.Empty(t, TokenPattern.FindAllString(v, 3), "a response or error holds a token: %s", v)
	}
}
