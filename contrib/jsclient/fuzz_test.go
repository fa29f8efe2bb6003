package jsclient

import (
	"strings"
	"testing"
)

// FuzzNoneMatch holds noneMatch to RFC 9110 §13.1.2: a valid
// If-None-Match (the field "*", or a list of entity-tags, whose opaque
// part may hold commas) matches exactly when it is "*" or one of the tags
// is ours, strong or weak; any other field, its lines joined as one list,
// never matches (step 3: "Otherwise, the condition is true"), even when
// our tag is somewhere in it: the script is served, never a 304.
func FuzzNoneMatch(f *testing.F) {
	f.Add(etag, "", false)
	f.Add(`W/`+etag, `"a,b"`, true)
	f.Add(`"x", `+etag, `*`, false)
	f.Add(`"a,`+etag[1:], "", false)
	f.Add(`*`, `"x"`, true)
	f.Add(` "x" ,, W/"y" `, "", true)
	f.Add(`w/`+etag, "", false)
	f.Add(etag+` x`, "", false)
	f.Add(etag+`, x`, "", false)
	f.Add(`"a"W/`+etag, "", false)
	f.Add(`*`, etag, true)
	f.Add(etag, `*`, true)
	f.Add(etag, `"a" "b"`, true)
	f.Add(" * ", "", false)
	f.Add(`"a b", `+etag, "", false)
	f.Add("\"a\x7f\", "+etag, "", false)
	f.Add("\"x\",\t"+etag, "", false)
	f.Fuzz(func(t *testing.T, a, b string, two bool) {
		values := []string{a}
		if two {
			values = append(values, b)
		}
		want, valid := noneMatchSpec(strings.Join(values, ", "))
		if !valid {
			want = false // a malformed field never matches
		}
		if got := noneMatch(values); got != want {
			t.Fatalf("noneMatch(%q) = %v, want %v", values, got, want)
		}
	})
}

// noneMatchSpec reads an If-None-Match field value by RFC 9110's grammar:
// "*" / #entity-tag, entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc =
// %x21 / %x23-7E / obs-text, a list of at least one tag (RFC 9110 §5.6.1:
// empty elements allowed). It reports whether the value matches ours, and
// whether it was valid.
func noneMatchSpec(v string) (match, valid bool) {
	const ows = " \t"
	if strings.Trim(v, ows) == "*" {
		return true, true
	}
	tags := 0
	for {
		v = strings.TrimLeft(v, ows)
		if v == "" {
			return match, tags > 0
		}
		if v[0] == ',' {
			v = v[1:]
			continue
		}
		v = strings.TrimPrefix(v, "W/")
		if v == "" || v[0] != '"' {
			return false, false
		}
		end := 1
		for end < len(v) && v[end] != '"' {
			if c := v[end]; c < 0x21 || c == 0x7f {
				return false, false
			}
			end++
		}
		if end == len(v) {
			return false, false
		}
		tags++
		match = match || v[:end+1] == etag
		v = strings.TrimLeft(v[end+1:], ows)
		if v != "" && v[0] != ',' {
			return false, false
		}
	}
}
