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
		got := [4]string{pw[0].Key, pw[1].Key, cl[0].Key, cl[1].Key}
		if got != c.want {
			t.Errorf("%q: keys %q, want %q", c.ip, got, c.want)
		}
	}
}

// TestRememberedIPKeysAreTheDerivedOnes checks the per-IP key caches of a
// throttler against the keys derived afresh, for more addresses than the
// caches have slots (so that slots are overwritten) and twice over (so
// that the second round reads what the first remembered).
func TestRememberedIPKeysAreTheDerivedOnes(t *testing.T) {
	cached := newThrottler(&Config{})
	fresh := *cached // no caches: every key derived
	fresh.pwIP, fresh.clientIP = nil, nil
	for round := range 2 {
		for i := range 3 * ipKeySlots {
			ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
			if i%2 == 1 {
				ip = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
			}
			if got, want := cached.passwordKeys("u", ip), fresh.passwordKeys("u", ip); got != want {
				t.Fatalf("round %d, %s: password keys %v, want %v", round, ip, got, want)
			}
			if got, want := cached.clientKeys("c", ip), fresh.clientKeys("c", ip); got != want {
				t.Fatalf("round %d, %s: client keys %v, want %v", round, ip, got, want)
			}
		}
	}
}
