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
	} {
		if got := Names(c.q, "password", "username"); got != c.want {
			t.Errorf("Names(%q) = %v, want %v", c.q, got, c.want)
		}
	}
}
