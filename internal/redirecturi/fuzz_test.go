package redirecturi

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/loopback"
)

// FuzzCheck: Check's error is ErrNotURI exactly when u holds a character
// outside RFC 3986's or a "%" not followed by two hex digits; of the
// others, it is ErrNotAbsolute exactly when net/url reads the URI as not
// absolute or it has a '#'; of the others, Check accepts
// those of no scheme a browser runs or reads locally, https with a host or
// http on a loopback host, and with no parameter of the authorization
// response in the query (split at '&' or ';'), as net/url reads them.
func FuzzCheck(f *testing.F) {
	for _, u := range []string{
		"https://app.example/cb", "http://127.0.0.1:8080/cb", "http://[::1]/cb", "http://LOCALHOST/cb", "com.example.app:/cb",
		"https://app.example/cb?a=1;code=x", "https://app.example/cb?%63ode", "https://app.example/cb#", "JavaScript:alert(1)",
		"http://app.example/cb", "https:/cb", "/cb", "http://127.0.0.1.nip.io/", "https://app.example/cb?a+b=1&state",
		"blob:https://app.example/0b5e", "vbscript:x", "file:///cb", "about:blank", "http://[::1]:8000/cb", "https://app.example/cb?error_uri",
	} {
		f.Add(u)
	}
	f.Add("https://app.example/a b")
	f.Add("https://app.example/\u00e9")
	f.Add("https://app.example/cb?x=100%")
	f.Fuzz(func(t *testing.T, u string) {
		err := Check(u)
		// RFC 3986 §2: unreserved, gen-delims, sub-delims and "%".
		notURI := strings.ContainsFunc(u, func(r rune) bool {
			return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
				strings.ContainsRune("-._~"+":/?#[]@"+"!$&'()*+,;="+"%", r))
		})
		// §2.1: each "%" starts two hex digits.
		for rest := u; !notURI && strings.Contains(rest, "%"); {
			_, rest, _ = strings.Cut(rest, "%")
			_, err := strconv.ParseUint(rest[:min(2, len(rest))], 16, 8)
			notURI = len(rest) < 2 || err != nil
		}
		if notURI != errors.Is(err, ErrNotURI) {
			t.Fatalf("Check(%q) = %v; a character no URI holds: %v", u, err, notURI)
		}
		if notURI {
			return
		}
		p, perr := url.Parse(u)
		notAbsolute := perr != nil || !p.IsAbs() || strings.Contains(u, "#")
		if notAbsolute != errors.Is(err, ErrNotAbsolute) {
			t.Fatalf("Check(%q) = %v; url.Parse: %v", u, err, perr)
		}
		if notAbsolute {
			return
		}
		// Check's rule, judged with net/url alone: where url.ParseQuery
		// reads the query, Check accepts exactly what it allows; where it
		// does not, Check accepts nothing it forbids.
		why := ""
		switch p.Scheme {
		case "javascript", "vbscript", "data", "blob", "file", "about", "filesystem":
			why = "the scheme " + p.Scheme
		case "https":
			if p.Host == "" {
				why = "https without a host"
			}
		case "http":
			if p.Host == "" || !loopback.Host(p.Hostname()) {
				why = "http on " + p.Host
			}
		}
		q, qerr := url.ParseQuery(strings.ReplaceAll(p.RawQuery, ";", "&"))
		for _, name := range []string{"code", "state", "iss", "error", "error_description", "error_uri"} {
			if qerr == nil && q.Has(name) {
				why = "a query holding " + name
			}
		}
		if err == nil && why != "" {
			t.Fatalf("Check(%q) accepts %s", u, why)
		}
		if err != nil && why == "" && qerr == nil {
			t.Fatalf("Check(%q) = %v, but it is allowed", u, err)
		}
	})
}
