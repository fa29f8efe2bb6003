package provider_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/provider"
)

// arrivingBody is a request body whose bytes arrive as the client sends
// them; it records the largest buffer a Read was offered before the first
// byte had arrived, which is the memory the endpoint committed on the
// strength of the Content-Length header alone.
type arrivingBody struct {
	r       io.Reader
	started bool
	before  int
}

func (b *arrivingBody) Read(p []byte) (int, error) {
	if !b.started {
		b.before = max(b.before, len(p))
		b.started = true
	}
	return b.r.Read(p)
}

func (b *arrivingBody) Close() error { return nil }

// A slow client that declares a Content-Length at the limit and then
// trickles its body (or sends nothing) must not pin a buffer of that size
// per connection before any byte has come: thousands of such connections
// would hold MaxRequestBytes each for the server's ReadTimeout. The body
// is still read whole and served.
func TestTokenBodyBufferGrowsAsTheBodyArrives(t *testing.T) {
	const limit = 1 << 20
	e := newEnv(t, func(c *provider.Config) { c.MaxRequestBytes = limit })
	raw := padTo(password().Encode(), limit)
	r := req{basic: conf}.build()
	ab := &arrivingBody{r: strings.NewReader(raw)}
	r.Body, r.ContentLength = ab, int64(len(raw))
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	assertToken(t, w)
	assert.LessOrEqual(t, ab.before, 16<<10, "buffer offered before any byte of a %d-byte body arrived", len(raw))
}
