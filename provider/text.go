package provider

import "unicode/utf8"

// isText reports whether s, a value a request carries, is text the
// provider passes on to a store or a user database: UTF-8 without C0
// control characters (but the tab, when tab is set), DEL, or the
// noncharacters U+FFFE and U+FFFF. A request may carry any bytes; a store
// or database may refuse others (Postgres refuses a NUL byte or invalid
// UTF-8) with an error that would read as an outage.
func isText(s string, tab bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return isUnicodeText(s[i:], tab)
		}
		if c < 0x20 && (c != '\t' || !tab) || c == 0x7f {
			return false
		}
	}
	return true
}

// isUnicodeText is isText for s past its ASCII start.
func isUnicodeText(s string, tab bool) bool {
	if !utf8.ValidString(s) { // which refuses surrogates too
		return false
	}
	for _, r := range s {
		if r < 0x20 && (r != '\t' || !tab) || r == 0x7f || r == 0xfffe || r == 0xffff {
			return false
		}
	}
	return true
}
