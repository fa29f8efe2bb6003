package loopback

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHost(t *testing.T) {
	for _, h := range []string{"localhost", "LocalHost", "127.0.0.1", "127.8.9.10", "::1"} {
		assert.True(t, Host(h), h)
	}
	for _, h := range []string{"", "0.0.0.0", "::", "10.0.0.1", "192.0.2.1", "example.com", "localhost.example.com", "[::1]"} {
		assert.False(t, Host(h), h)
	}
}

func TestAddr(t *testing.T) {
	for _, a := range []string{"127.0.0.1:8080", "[::1]:0", "localhost:80"} {
		assert.True(t, Addr(a), a)
	}
	for _, a := range []string{"0.0.0.0:8080", ":8080", "127.0.0.1", "example.com:80"} {
		assert.False(t, Addr(a), a)
	}
}
