package provider

import (
	"net/netip"
	"testing"
)

// TestThrottleKeysAreStable pins the limiter keys: a shared limiter keeps
// them across versions, so a change of their derivation would hand every
// throttled client a fresh budget in the middle of a rolling upgrade.
func TestThrottleKeysAreStable(t *testing.T) {
	th := &throttler{}
	for _, c := range []struct {
		ip   string
		want [4]string
	}{
		{"192.0.2.7", [4]string{"pw-ip:qv87PEA6ZmoMBlIn0JTHCA", "pw-user:2pZkDYBSn7Qnef-PNht7dA", "client:u_ceI0Naq_qxniy1YVrdcA", "client-ip:aVimtOlwluGTXVHGpWYblQ"}},
		{"2001:db8::1", [4]string{"pw-ip:pMBHneAzdkHhgwA1kqULvA", "pw-user:tjAKjxSPuQjnjKJawwv8Bw", "client:eHbBOTLOlYFR3Ke2SZCheQ", "client-ip:5UnCAFnvYvEhRgzyogDLIg"}},
		{"", [4]string{"pw-ip:R54VpUxpzjfIPxhyNpBxyA", "pw-user:MLMsFwDQI5jiIVYYVe3nvw", "client:i5zfPEtK9nHwXxA8pV8z-g", "client-ip:-AVVwzimHtXG6NqKBN3Q2w"}},
	} {
		var ip netip.Addr
		if c.ip != "" {
			ip = netip.MustParseAddr(c.ip)
		}
		pw, cl := th.passwordKeys("JohnDoe", ip), th.clientKeys("demo-client", ip)
		got := [4]string{pw[0].key, pw[1].key, cl[0].key, cl[1].key}
		if got != c.want {
			t.Errorf("%q: keys %q, want %q", c.ip, got, c.want)
		}
	}
}
