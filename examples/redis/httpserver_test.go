package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/internal/servetest"
)

// The server serves h on its address and bounds every phase of a
// connection.
func TestHTTPServerTimeouts(t *testing.T) {
	h := http.NewServeMux()
	srv := newHTTPServer("127.0.0.1:8080", h)
	assert.Same(t, h, srv.Handler)
	assert.Equal(t, "127.0.0.1:8080", srv.Addr)
	servetest.BoundsEveryPhase(t, srv)
}
