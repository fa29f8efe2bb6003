package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/internal/servetest"
)

// The server serves h and bounds every phase of a connection.
func TestHTTPServerTimeouts(t *testing.T) {
	h := http.NewServeMux()
	srv := newHTTPServer(h)
	assert.Same(t, h, srv.Handler)
	servetest.BoundsEveryPhase(t, srv)
}
