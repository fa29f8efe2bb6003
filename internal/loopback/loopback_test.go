package loopback

import (
	"net"
	"net/netip"
	"strings"
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

// FuzzHost: a host is loopback only as "localhost" in ASCII letters of
// any case (a name a resolver may look up otherwise is not) or an IP
// literal of a loopback address; an address only when its host is one.
func FuzzHost(f *testing.F) {
	for _, h := range []string{"localhost", "LOCALHOST", "localhoſt", "localhoſt:1", "127.0.0.1", "::1", "::1%lo", "[::1]:0", "::ffff:127.0.0.1", "localhost.", "0x7f.1"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		ip, err := netip.ParseAddr(h)
		want := strings.ToLower(h) == "localhost" && len(h) == len("localhost") || err == nil && ip.IsLoopback()
		if got := Host(h); got != want {
			t.Fatalf("Host(%q) = %v, want %v", h, got, want)
		}
		host, _, err := net.SplitHostPort(h)
		if got := Addr(h); got != (err == nil && Host(host)) {
			t.Fatalf("Addr(%q) = %v", h, got)
		}
	})
}

func TestCheckURL(t *testing.T) {
	for _, ok := range []string{"https://auth.example.com", "http://127.0.0.1:8080", "http://[::1]:1", "http://LocalHost"} {
		assert.NoError(t, CheckURL("-x", ok, "the tokens"), ok)
	}
	for bad, want := range map[string]string{
		"http://auth.example.com": "-x http://auth.example.com: plain http only to this machine (127.0.0.1, ::1, localhost); the tokens would cross the network in clear: use https",
		"http://192.0.2.1":        "the tokens would cross the network in clear",
		// A URL with a host but no scheme is not https.
		"//auth.example.com": `-x "//auth.example.com": want an http(s) URL`,
		"ftp://127.0.0.1":    `-x "ftp://127.0.0.1": want an http(s) URL`,
		"127.0.0.1:8080":     `-x "127.0.0.1:8080" is not a URL`,
		"":                   `-x "" is not a URL`,
	} {
		err := CheckURL("-x", bad, "the tokens")
		if assert.Error(t, err, bad) {
			assert.True(t, strings.Contains(err.Error(), want), "%q: %v", bad, err)
		}
	}
}
