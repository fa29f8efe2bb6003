package query

import "testing"

func TestNames(t *testing.T) {
	for _, c := range []struct {
		q    string
		want bool
	}{
		{"", false},
		{"password=x", true},
		{"a=1&password=x", true},
		{"a=1;password=x", true}, // a ';' separates, as some proxies read it
		{"pass%77ord=x", true},   // keys compare decoded
		{"pass+word=x", false},   // '+' decodes to a space
		{"passwordx=1", false},
		{"a=password", false},  // values are not keys
		{"%zz&password", true}, // an undecodable key is compared as it is
		{"username", true},
		{"&password=x", true},  // an empty pair before it
		{";password=x", true},  // likewise after a ';'
		{"password&a=1", true}, // a key without a value, then more pairs
		{"password;a=1", true}, // likewise before a ';'
		{"a=1&passwordx", false},
	} {
		if got := Names(c.q, "password", "username"); got != c.want {
			t.Errorf("Names(%q) = %v, want %v", c.q, got, c.want)
		}
	}
}

// First names the key it found, not merely one of names.
func TestFirst(t *testing.T) {
	for _, c := range []struct{ q, want string }{
		{"a=1&state=x&code=y", "state"},
		{"code=y;state=x", "code"},
		{"st%61te", "state"},
		{"a=code", ""},
		{"code", "code"}, // a whole query of one key
		{"a&code", "code"},
	} {
		got, ok := First(c.q, "code", "state")
		if got != c.want || ok != (c.want != "") {
			t.Errorf("First(%q) = %q, %v, want %q", c.q, got, ok, c.want)
		}
	}
}

// Unescape is url.QueryUnescape: '+' is a space, and a string with a
// '+' but no '%' is decoded too.
func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", "a+b": "a b", "%41": "A", "a%2Bb": "a+b", "+%20": "  ", "": "",
	} {
		if got, err := Unescape(in); err != nil || got != want {
			t.Errorf("Unescape(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"%", "%zz", "a%4"} {
		if _, err := Unescape(bad); err == nil {
			t.Errorf("Unescape(%q): no error", bad)
		}
	}
	// A one-character key, alone or last, is a key too.
	for _, q := range []string{"x", "a=1&x", "x=1"} {
		if !Names(q, "x") {
			t.Errorf("Names(%q, %q) = false", q, "x")
		}
	}
	if !Names("pass+word=x", "pass word") {
		t.Error(`Names("pass+word=x", "pass word") = false: a '+' in a key is a space`)
	}
}
