package provider

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// otherMachine refuses every name and address a browser would send to the
// user's own machine, so that a first-party public client on such an
// https redirect URI still gets a consent page (RFC 8252 §8.6).
func TestOtherMachine(t *testing.T) {
	for _, h := range []string{"", "localhost", "LOCALHOST", "localhost.", "app.localhost", "a.b.localhost.",
		"127.0.0.1", "127.8.9.10", "::1", "0.0.0.0", "::", "127.1", "2130706433", "0x7f.1", "0x7f000001", "127.0.0.0x1", "127.0x1", "127.0.1", "::ffff:0.0.0.0", "::ffff:127.0.0.1",
		"１２７.０.０.１", "ｌｏｃａｌｈｏｓｔ", "localhost。", "app．localhost", "localhost｡", "０ｘ７ｆ.１",
		"localhost.localdomain", "LOCALHOST.localdomain.", "localhost6", "localhost6.localdomain6", "ip6-localhost", "ip6-loopback", "myhost"} {
		assert.False(t, otherMachine(h), h)
	}
	for _, h := range []string{"first.example", "app.example.com", "localhost.example.com", "192.0.2.1", "2001:db8::1", "face.bad", "x1.y2", "bücher.example", "例え.テスト"} {
		assert.True(t, otherMachine(h), h)
	}
}

// UTS #46 maps some code points to nothing ("ignored": the soft hyphen,
// the zero-width space, the word joiner, the byte order mark, variation
// selectors, the combining grapheme joiner), and browsers drop them from
// a host before they resolve it: https://local<U+00AD>host/ is
// https://localhost/, and 127.0.0<U+00AD>.1 is 127.0.0.1. otherMachine
// must drop them too, or such a host passes for another machine and a
// first-party public client on it skips the consent page.
func TestOtherMachineDropsWhatBrowsersIgnore(t *testing.T) {
	for _, h := range []string{"local\u00adhost", "localhost\u200b", "local\u2060host", "\ufefflocalhost",
		"local\ufe0fhost", "loc\u034falhost", "127.0.0\u00ad.1", "1\u00ad27.1", "app.local\u00adhost", "ｌｏｃａｌ\u00adｈｏｓｔ"} {
		assert.False(t, otherMachine(h), "%+q", h)
	}
	for _, h := range []string{"first\u00ad.example", "bücher\u200b.example"} {
		assert.True(t, otherMachine(h), "%+q", h)
	}
}
