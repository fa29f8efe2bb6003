package header

import (
	"strings"
	"testing"
)

// FuzzQuote: Quote's result is one RFC 9110 quoted-string (§5.6.4),
// carrying no control character, that a recipient reads back as s
// without its control characters.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "my realm", `say "hi"`, `a\b`, "line\r\nbreak\t", "del\x7f", "é", `\"`, "\xff\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Quote(s)
		got, ok := unquote(q)
		if !ok {
			t.Fatalf("Quote(%q) = %q, not one quoted-string", s, q)
		}
		var want []byte
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x20 && s[i] != 0x7f {
				want = append(want, s[i])
			}
		}
		if got != string(want) {
			t.Fatalf("Quote(%q) = %q, read back as %q, want %q", s, q, got, want)
		}
	})
}

// unquote reads q as exactly one quoted-string of RFC 9110 §5.6.4:
//
//	quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//	qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
//	quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text )
func unquote(q string) (string, bool) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", false
	}
	text := func(c byte) bool { return c == '\t' || c >= 0x20 && c != 0x7f }
	var b strings.Builder
	for i := 1; i < len(q)-1; i++ {
		switch c := q[i]; {
		case c == '\\':
			if i+1 >= len(q)-1 || !text(q[i+1]) {
				return "", false
			}
			i++
			b.WriteByte(q[i])
		case c == '"' || !text(c):
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// FuzzEqualFoldASCII: on ASCII strings EqualFoldASCII is strings.EqualFold;
// on any strings it is symmetric, reflexive, and equal strings under it
// are equal under strings.EqualFold (it folds less, never more); and it
// is strings.EqualFold byte by byte, where both bytes are ASCII, and
// equality of the bytes elsewhere (non-ASCII bytes are compared as they
// are, neither folded nor refused).
func FuzzEqualFoldASCII(f *testing.F) {
	for _, c := range [][2]string{{"Basic", "basic"}, {"Baſic", "Basic"}, {"\u212Aey", "key"}, {"[", "{"}, {"@", "`"}, {"AZ", "az"}, {"\xff", "\xfe"}, {"Zürich", "zürich"}, {"\xc1", "\xe1"}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, s, u string) {
		got := EqualFoldASCII(s, u)
		if got != EqualFoldASCII(u, s) {
			t.Fatalf("EqualFoldASCII(%q, %q) = %v, but not the other way round", s, u, got)
		}
		if !EqualFoldASCII(s, s) {
			t.Fatalf("EqualFoldASCII(%q, itself) = false", s)
		}
		if got && !strings.EqualFold(s, u) {
			t.Fatalf("EqualFoldASCII(%q, %q) = true, strings.EqualFold false", s, u)
		}
		if ascii(s) && ascii(u) && got != strings.EqualFold(s, u) {
			t.Fatalf("EqualFoldASCII(%q, %q) = %v, strings.EqualFold on ASCII says %v", s, u, got, !got)
		}
		want := len(s) == len(u)
		for i := 0; want && i < len(s); i++ {
			if s[i] < 0x80 && u[i] < 0x80 {
				want = strings.EqualFold(s[i:i+1], u[i:i+1])
			} else {
				want = s[i] == u[i]
			}
		}
		if got != want {
			t.Fatalf("EqualFoldASCII(%q, %q) = %v, want %v", s, u, got, want)
		}
	})
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
