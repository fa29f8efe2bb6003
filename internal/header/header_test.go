package header

import (
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                `""`,
		"my realm":        `"my realm"`,
		`say "hi"`:        `"say \"hi\""`,
		`a\b`:             `"a\\b"`,
		"line\r\nbreak\t": `"linebreak"`,
		"del\x7f":         `"del"`,
		"\x00us\x1f~":     `"us~"`, // the ends of the controls; '~' (0x7e) is kept
		"é":               "\"é\"",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestHeaderKeysAreCanonical: the provider and the policies read request
// headers by map index (First, Header["..."]), never with Header.Get or
// Header.Values, and by canonical keys only, the form net/http stores
// every request's headers in.
func TestHeaderKeysAreCanonical(t *testing.T) {
	lookup := regexp.MustCompile(`header\.First\([^,()]+, "([^"]+)"\)|Header\["([^"]+)"\]`)
	canonicalizing := regexp.MustCompile(`\.Header\.(Get|Values)\(`)
	var keys []string
	for _, dir := range []string{"../../provider", "../../policy"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f) // #nosec G304 -- the repository's own sources
			if err != nil {
				t.Fatal(err)
			}
			if m := canonicalizing.FindString(string(src)); m != "" {
				t.Errorf("%s reads a request header with %s…), which canonicalizes its key on every call: use header.First or Header[...]", f, m)
			}
			for _, m := range lookup.FindAllStringSubmatch(string(src), -1) {
				k := m[1] + m[2]
				keys = append(keys, k)
				if c := textproto.CanonicalMIMEHeaderKey(k); c != k {
					t.Errorf("%s reads header %q, a key net/http never stores (it stores %q)", f, k, c)
				}
			}
		}
	}
	if len(keys) < 4 {
		t.Errorf("found only the lookups %q: has the pattern gone stale?", keys)
	}
}

func TestFirst(t *testing.T) {
	h := http.Header{"User-Agent": {"a", "b"}, "Empty": {}}
	for key, want := range map[string]string{"User-Agent": "a", "Empty": "", "Absent": ""} {
		if got := First(h, key); got != want {
			t.Errorf("First(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestEqualFoldASCII(t *testing.T) {
	for _, c := range []struct {
		s, t string
		want bool
	}{
		{"Basic", "basic", true},
		{"HTTPS", "https", true},
		{"LocalHost", "localhost", true},
		{"", "", true},
		{"Baſic", "Basic", false},  // U+017F folds to s in Unicode, not in ASCII
		{"\u212Aey", "key", false}, // the Kelvin sign folds to k in Unicode
		{"basic", "basics", false},
		{"basics", "basic", false}, // the longer one on either side
		{"b@sic", "basic", false},
		{"[", "{", false}, // 0x5B and 0x7B differ by 0x20 but are not letters
		{"@", "`", false}, // 0x40 and 0x60 likewise, just below 'A' and 'a'
		{"`", "@", false},
		{"basic", "Basic", true}, // the upper case on either side
		{"localhost", "LOCALHOST", true},
		{"AZ", "az", true}, // the ends of the range folded
		{"az", "AZ", true},
		{"Az", "aZ", true},
	} {
		if got := EqualFoldASCII(c.s, c.t); got != c.want {
			t.Errorf("EqualFoldASCII(%q, %q) = %v, want %v", c.s, c.t, got, c.want)
		}
	}
}

func TestPlainHTTPOrigin(t *testing.T) {
	for _, c := range []struct {
		origin, fetchSite []string
		want              string
	}{
		{origin: []string{"http://a.example"}, want: "http://a.example"},
		{origin: []string{"HTTP://a.example"}, want: "HTTP://a.example"},
		{origin: []string{"http://a.example"}, fetchSite: []string{""}, want: "http://a.example"},
		{origin: []string{"http://a.example"}, fetchSite: []string{"same-origin"}},
		{origin: []string{"https://a.example"}},
		{origin: []string{"http:/"}},
		{origin: []string{"http://"}, want: "http://"}, // the scheme alone
		{origin: []string{"null"}},
		{},
	} {
		h := http.Header{}
		if c.origin != nil {
			h["Origin"] = c.origin
		}
		if c.fetchSite != nil {
			h["Sec-Fetch-Site"] = c.fetchSite
		}
		if got := PlainHTTPOrigin(h); got != c.want {
			t.Errorf("PlainHTTPOrigin(Origin %q, Sec-Fetch-Site %q) = %q, want %q", c.origin, c.fetchSite, got, c.want)
		}
	}
}
