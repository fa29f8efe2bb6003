package provider

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// An ordinary endpoint request, a body of a few hundred bytes of known
// length, is read in one allocation, of its size: readBody is on the path
// of every token, revocation and introspection request.
func TestReadBodyOfKnownLengthIsOneAllocation(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector changes allocation counts")
	}
	st := memory.New(memory.Config{})
	p, err := New(Config{Clients: st, Tokens: st})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 300, initialBodyBuf - 1, initialBodyBuf} {
		raw := "grant_type=password&username=" + strings.Repeat("u", n)
		raw = raw[:n]
		sr := strings.NewReader(raw)
		r := httptest.NewRequest(http.MethodPost, "/oauth2/token", nil)
		r.Body, r.ContentLength = io.NopCloser(sr), int64(n)
		w := httptest.NewRecorder()
		var body []byte
		allocs := testing.AllocsPerRun(100, func() {
			sr.Reset(raw)
			body, _ = p.readBody(w, r)
		})
		if string(body) != raw {
			t.Fatalf("%d bytes: read %q", n, body)
		}
		if allocs != 1 {
			t.Errorf("a %d-byte body: %v allocations, want 1", n, allocs)
		}
		if c := cap(body); c > n+n/4+16 {
			t.Errorf("a %d-byte body: a buffer of %d", n, c)
		}
	}
}

// readBody takes a body of known length whole, however it arrives and
// across the sizes of its buffers, and refuses one shorter or longer than
// its Content-Length, or over MaxRequestBytes, as it does one of unknown
// length (chunked).
func TestReadBodyLengths(t *testing.T) {
	const limit = 3*initialBodyBuf + 5
	st := memory.New(memory.Config{})
	p, err := New(Config{Clients: st, Tokens: st, MaxRequestBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	wraps := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+EOF": iotest.DataErrReader,
	}
	for _, n := range []int{1, initialBodyBuf - 1, initialBodyBuf, initialBodyBuf + 1, 2 * initialBodyBuf, 2*initialBodyBuf + 1, limit - 1, limit} {
		raw := strings.Repeat("a", n)
		for name, wrap := range wraps {
			read := func(sent string, length int64) ([]byte, *Error) {
				r := httptest.NewRequest(http.MethodPost, "/oauth2/token", nil)
				r.Body, r.ContentLength = io.NopCloser(wrap(strings.NewReader(sent))), length
				return p.readBody(httptest.NewRecorder(), r)
			}
			if body, e := read(raw, int64(n)); e != nil || string(body) != raw {
				t.Errorf("%s, %d bytes: %d bytes read, %v", name, n, len(body), e)
			}
			if body, e := read(raw, -1); e != nil || string(body) != raw {
				t.Errorf("%s, %d bytes chunked: %d bytes read, %v", name, n, len(body), e)
			}
			if _, e := read(raw[1:], int64(n)); e == nil || e.Status != http.StatusBadRequest {
				t.Errorf("%s, %d bytes of %d: %v", name, n-1, n, e)
			}
			if _, e := read(raw+"a", int64(n)); e == nil || e.Status != http.StatusBadRequest {
				t.Errorf("%s, %d bytes of %d: %v", name, n+1, n, e)
			}
		}
	}
	for name, length := range map[string]int64{"declared": limit + 1, "chunked": -1} {
		r := httptest.NewRequest(http.MethodPost, "/oauth2/token", nil)
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader(strings.Repeat("a", limit+1))), length
		if _, e := p.readBody(httptest.NewRecorder(), r); e == nil || e.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s, one byte over the limit: %v", name, e)
		}
	}
}
