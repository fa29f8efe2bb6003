package redirecturi

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheck(t *testing.T) {
	for u, ok := range map[string]bool{
		"https://app.example/cb":                      true,
		"https://app.example/cb?tenant=7":             true,
		"https://app.example/cb?codes=1&st=2":         true,
		"http://127.0.0.1/cb":                         true,
		"http://[::1]:8000/cb":                        true,
		"http://localhost:3000/cb":                    true,
		"com.example.app:/oauth2redirect":             true,
		"http://app.example/cb":                       false, // RFC 9700 §2.6
		"http://127.0.0.1.nip.io/cb":                  false,
		"https:/cb":                                   false,
		"/cb":                                         false,
		"https://app.example/cb#":                     false,
		"https://app.example/cb#x":                    false,
		"javascript:alert(1)//":                       false,
		"JavaScript:alert(1)//":                       false,
		"data:text/html,x":                            false,
		"filesystem:https://app.example/temporary/cb": false,
		"https://app.example/cb?state=x":              false, // RFC 6749 §3.1
		"https://app.example/cb?a=1;code=x":           false,
		"https://app.example/cb?%69ss=x":              false,
		"https://app.example/cb?error_description":    false,
		"https://app.example/cb?error_uri=x":          false,
		"https://app.example/cb?iss=x":                false, // RFC 9207
		"https://app.example/cb?code":                 false,
		"https://app.example/cb?error=x":              false,
	} {
		assert.Equal(t, ok, Check(u) == nil, "%s: %v", u, Check(u))
	}
}

// Every scheme a browser runs or reads locally is refused, and
// CheckScheme compares schemes in any case for a URL not made by
// url.Parse (which lowers it).
func TestCheckSchemeRefusesLocalSchemes(t *testing.T) {
	for _, u := range []string{
		"javascript:alert(1)//", "vbscript:msgbox(1)", "data:text/html,x", "blob:https://app.example/0b5e",
		"file:///etc/passwd", "about:blank", "filesystem:https://app.example/temporary/cb",
	} {
		assert.Error(t, Check(u), u)
		p, err := Parse(u)
		if assert.NoError(t, err, u) {
			p.Scheme = strings.ToUpper(p.Scheme)
			assert.Error(t, CheckScheme(p), p.Scheme)
		}
	}
}

// An http(s) URI without a host is refused as such, not as a host that is
// not loopback: the message is what oauth2ctl and the error page show.
func TestCheckSaysAHostIsMissing(t *testing.T) {
	for u, want := range map[string]string{
		"http:///cb":  "an http URI needs a host",
		"https:///cb": "an https URI needs a host",
	} {
		err := Check(u)
		if assert.Error(t, err, u) {
			assert.Equal(t, want, err.Error(), u)
		}
	}
}

// A URI holds only the characters of RFC 3986 §2: a space, a quote,
// another delimiter or a non-ASCII byte is refused, percent-encoded it
// passes. net/url takes most of them in a path or a query, and a URI
// registered with one would be shown and matched unlike the one a
// client sends.
func TestParseRefusesCharactersNoURIHolds(t *testing.T) {
	for _, c := range []string{" ", `"`, "<", ">", `\`, "^", "`", "{", "|", "}", "é", "\x7f"} {
		for _, u := range []string{"https://app.example/a" + c + "b", "https://app.example/cb?x=" + c, "com.example.app:/a" + c} {
			_, err := Parse(u)
			assert.ErrorIs(t, err, ErrNotURI, "%q", u)
			assert.ErrorIs(t, Check(u), ErrNotURI, "%q", u)
		}
	}
	for _, u := range []string{
		"https://app.example/a%20b", "https://app.example/%C3%A9", "https://app.example/a-._~!$&'()*+,;=:@/b?q=/?",
		"http://[::1]:8000/cb",
	} {
		assert.NoError(t, Check(u), u)
	}
}

// RFC 3986 §2.1: a "%" only starts a percent-encoding, two hex digits.
// net/url checks that in the path and the host but not in the query, so
// the query is checked here: "?x=100%" is refused as "?x=%zz" is.
func TestParseRefusesAPercentSignThatEncodesNothing(t *testing.T) {
	for _, u := range []string{
		"https://app.example/cb?x=100%", "https://app.example/cb?x=%zz", "https://app.example/cb?x=%4",
		"https://app.example/cb?x=%4g&y=1", "com.example.app:/cb?%", "https://app.example/a%2",
		// Each of the two digits is checked: a non-hex first one too.
		"https://app.example/cb?x=%g4", "https://app.example/cb?%G0=1",
	} {
		_, err := Parse(u)
		assert.ErrorIs(t, err, ErrNotURI, "%q", u)
	}
	for _, u := range []string{"https://app.example/cb?x=100%25", "https://app.example/cb?x=%4A%4a", "https://app.example/%C3%A9?q=%E2%82%AC"} {
		_, err := Parse(u)
		assert.NoError(t, err, u)
	}
}
