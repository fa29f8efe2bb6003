package query

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzFirst: Unescape is url.QueryUnescape; a query url.ParseQuery reads
// without an error names a key for First exactly when ParseQuery finds
// it; ';' separates pairs as '&' does; First returns one of names.
func FuzzFirst(f *testing.F) {
	for _, q := range []string{"", "code=x", "a=1&state=x", "a=1;code=x", "%63ode", "a+b=1", "%zz&state", "a=code", "&&=&", "st%61te=%"} {
		f.Add(q)
	}
	names := []string{"code", "state", "a b", "%zz"}
	f.Fuzz(func(t *testing.T, q string) {
		got, err := Unescape(q)
		want, wantErr := url.QueryUnescape(q)
		if (err == nil) != (wantErr == nil) || err == nil && got != want {
			t.Fatalf("Unescape(%q) = %q, %v; url.QueryUnescape: %q, %v", q, got, err, want, wantErr)
		}
		name, ok := First(q, names...)
		if ok != (name != "") || ok && !slices.Contains(names, name) {
			t.Fatalf("First(%q) = %q, %v", q, name, ok)
		}
		if ok != Names(q, names...) {
			t.Fatalf("First(%q) found %q, Names says %v", q, name, !ok)
		}
		if semi, _ := First(strings.ReplaceAll(q, ";", "&"), names...); semi != name {
			t.Fatalf("First(%q) = %q, but with ';' as '&': %q", q, name, semi)
		}
		if v, err := url.ParseQuery(q); err == nil {
			found := slices.ContainsFunc(names, func(n string) bool { return v.Has(n) })
			if found != ok {
				t.Fatalf("url.ParseQuery(%q) = %v, holds one of %q: %v; First: %q, %v", q, v, names, found, name, ok)
			}
			// The first such key in the query is the one First names.
			for _, pair := range strings.Split(q, "&") {
				k, _, _ := strings.Cut(pair, "=")
				if k, _ = url.QueryUnescape(k); slices.Contains(names, k) {
					if k != name {
						t.Fatalf("First(%q) = %q, the first key of names is %q", q, name, k)
					}
					break
				}
			}
		}
	})
}
