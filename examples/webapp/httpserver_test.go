package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The server bounds every phase of a connection: without a timeout a
// client that sends its headers, its body or its next request slowly
// (or never) holds a connection and a goroutine for as long as it likes.
func TestHTTPServerTimeouts(t *testing.T) {
	h := http.NewServeMux()
	srv := newHTTPServer("127.0.0.1:8080", h)
	assert.Same(t, h, srv.Handler)
	assert.Equal(t, "127.0.0.1:8080", srv.Addr)
	assert.Positive(t, srv.ReadHeaderTimeout, "ReadHeaderTimeout")
	assert.Positive(t, srv.ReadTimeout, "ReadTimeout")
	assert.Positive(t, srv.WriteTimeout, "WriteTimeout")
	assert.Positive(t, srv.IdleTimeout, "IdleTimeout")
	// ReadTimeout covers the headers too: a longer ReadHeaderTimeout
	// would never apply.
	assert.LessOrEqual(t, srv.ReadHeaderTimeout, srv.ReadTimeout)
}
