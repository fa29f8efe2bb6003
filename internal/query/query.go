// Package query reads raw URL queries the way the endpoints must judge
// them, whatever a server or proxy in front makes of them.
package query

import (
	"net/url"
	"slices"
	"strings"
)

// Names reports whether the raw URL query q names one of names. Keys are
// compared decoded (a key that does not decode is compared as it is).
// Pairs are split at ';' as well as '&': url.ParseQuery drops a pair
// holding a ';' whole, and with it a secret after the ';', which other
// servers and proxies (logging the URL all the same) read as a separator.
func Names(q string, names ...string) bool {
	_, ok := First(q, names...)
	return ok
}

// First returns the first key of the raw URL query q that is one of
// names, compared as [Names] compares them.
func First(q string, names ...string) (name string, ok bool) {
	for q != "" {
		var pair string
		if i := strings.IndexAny(q, "&;"); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			pair, q = q, ""
		}
		key, _, _ := strings.Cut(pair, "=")
		if k, err := Unescape(key); err == nil {
			key = k
		}
		if slices.Contains(names, key) {
			return key, true
		}
	}
	return "", false
}

// Unescape decodes one form-urlencoded key or value, as url.QueryUnescape
// does; most need no decoding and are returned as they are, without
// allocating.
func Unescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	return url.QueryUnescape(s)
}
