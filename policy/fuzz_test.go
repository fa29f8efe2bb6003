package policy

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// bearerToken is what Bearer makes of an Authorization header, checked
// here as one function: bearerCandidate, then, for a token that fails
// validation, isB64Token (a token that passes is a b64token), so that a
// malformed token is credMalformed and anything after it too.
func bearerToken(values []string) (string, credential) {
	tok, cred := bearerCandidate(values)
	if cred == credBearer && !isB64Token(tok) {
		return "", credMalformed
	}
	return tok, cred
}

var (
	b64Credentials = regexp.MustCompile(`^(?i:bearer) +([A-Za-z0-9._~+/-]+=*)$`)
	bearerScheme   = regexp.MustCompile(`^(?i:bearer)( |$)`)
)

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  a-b_c~d+e/f==", "Bearer", "Bearer a b", "Basic x", "", "Bearer =", "Bearer a=b", "Bearer  a", "Bearer ", "Bearer\ta", "BEARER a", "bearerX abc", "Bearer a\n", "Bearer ==", "Bearer a==b", "Bearer a==", "Bearer\u00a0a"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, h string, twice bool) {
		values := []string{h}
		if twice {
			values = append(values, h)
		}
		tok, cred := bearerToken(values)
		if !twice { // bearerCandidate's shortcut gives the general parsing's answer
			gt, gc := parseBearer(h)
			if ct, cc := bearerCandidate(values); ct != gt || cc != gc {
				t.Fatalf("bearerCandidate(%q) = %q, %v; the general parsing says %q, %v", h, ct, cc, gt, gc)
			}
		}
		// RFC 6750 §2.1, as a regular expression: one header, the scheme
		// in any case, one or more spaces, a b64token; a bearer scheme
		// with anything else is malformed, another scheme no credential.
		wantTok, wantCred := "", credNone
		if m := b64Credentials.FindStringSubmatch(h); m != nil && !twice {
			wantTok, wantCred = m[1], credBearer
		} else if twice || bearerScheme.MatchString(h) {
			wantCred = credMalformed
		}
		if tok != wantTok || cred != wantCred {
			t.Fatalf("%q (twice=%v) read as %q, %v; want %q, %v", h, twice, tok, cred, wantTok, wantCred)
		}
		switch cred {
		case credBearer:
			if twice || !isB64Token(tok) || strings.ContainsAny(tok, " \t,\"") || !strings.HasSuffix(h, tok) {
				t.Fatalf("accepted %q from %q", tok, h)
			}
			if !strings.EqualFold(h[:6], "bearer") {
				t.Fatalf("accepted scheme of %q", h)
			}
		case credNone:
			if tok != "" || twice {
				t.Fatalf("credNone with %q (twice=%v)", tok, twice)
			}
			if s, _, _ := strings.Cut(h, " "); strings.EqualFold(s, "bearer") {
				t.Fatalf("bearer scheme %q counted as no credentials", h)
			}
		case credMalformed:
			if tok != "" {
				t.Fatalf("malformed returned %q", tok)
			}
		}
	})
}

func TestBearerCandidateAllocatesNothing(t *testing.T) {
	values := []string{"Bearer oat_abcdefghijklmnopqrstuvwxyz0123456789"}
	if n := testing.AllocsPerRun(100, func() { _, _ = bearerCandidate(values); _ = isB64Token(values[0][7:]) }); n != 0 {
		t.Fatalf("reading a bearer token allocates %v times", n)
	}
}

// FuzzSafeReturnPath: a return_to that login or logout redirects to
// stays on this site: net/url resolves it against the site's origin to
// that origin, and it holds nothing a browser reads otherwise (a second
// "/" or a "\" after the first "/", which browsers take for a slash, or a
// control character, which they strip). And every such path is
// accepted, so that login returns where it was asked to.
func FuzzSafeReturnPath(f *testing.F) {
	for _, s := range []string{"/account?tab=1", "//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example",
		"/%2F%2Fevil", "/a:b", "/?x=//evil", "/#//evil", "/.//evil", "", "/" + strings.Repeat("a", 2048),
		"///evil.example", // net/url reads no host in "///evil.example", browsers do
		"/caf\u00e9?q=a b#x", "/%zz", "/a%"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://site.example/login")
	f.Fuzz(func(t *testing.T, v string) {
		why := ""
		if !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.ContainsAny(v, "\\") {
			why = "not a path, or one a browser reads as another host"
		}
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] == 0x7f {
				why = "a control character"
			}
		}
		if u, err := url.Parse(v); err != nil {
			why = "net/url refuses it: " + err.Error()
		} else if r := base.ResolveReference(u); r.Scheme != "https" || r.Host != "site.example" || r.User != nil {
			why = "it leads to " + r.String()
		}
		if got := safeReturnPath(v); got != (why == "") {
			if why == "" {
				why = "a path on this site"
			}
			t.Fatalf("safeReturnPath(%q) = %v: %s", v, got, why)
		}
	})
}

// FuzzCheckOrigin holds checkOrigin to its definition, written with
// net/url: an unsafe request passes when its Sec-Fetch-Site (the first
// value, as CrossOriginProtection reads it) says same-origin or none; or,
// without one (absent or empty), when it has no Origin or one net/url
// reads as this request's host and, over HTTPS, not as an http:// page;
// or when its Origin is a trusted one. Safe methods always pass.
func FuzzCheckOrigin(f *testing.F) {
	for _, o := range []string{"", "https://site.example", "http://site.example", "HTTP://site.example", "Http://site.example:443",
		"https://evil.example", "null", "http://legacy.example", "https://admin.example", "https://site.example/", "//site.example", "%zz"} {
		f.Add(uint8(1), o, "", false, true)
		f.Add(uint8(1), o, "", true, true)
	}
	f.Add(uint8(1), "http://site.example", "same-origin", true, true)
	f.Add(uint8(2), "https://evil.example", "cross-site", true, false)
	f.Add(uint8(0), "https://evil.example", "cross-site", true, true)
	f.Add(uint8(3), "http://site.example", "none", true, false)
	st := memory.New(memory.Config{})
	p, err := provider.New(provider.Config{Clients: st, Tokens: st})
	if err != nil {
		f.Fatal(err)
	}
	trusted := []string{"https://admin.example", "http://legacy.example"}
	s, err := NewSessions(p, SessionConfig{TrustedOrigins: trusted})
	if err != nil {
		f.Fatal(err)
	}
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead, http.MethodOptions, "PROPFIND"}
	f.Fuzz(func(t *testing.T, m uint8, origin, site string, hasSite, tls bool) {
		method := methods[int(m)%len(methods)]
		r := httptest.NewRequest(method, "https://site.example/account", nil)
		if !tls {
			r.TLS = nil
		}
		if origin != "" {
			r.Header["Origin"] = []string{origin}
		}
		if hasSite {
			r.Header["Sec-Fetch-Site"] = []string{site}
		}
		var want bool
		switch {
		case method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions:
			want = true
		case slices.Contains(trusted, origin):
			want = true
		case site != "" && hasSite:
			want = site == "same-origin" || site == "none"
		case origin == "":
			want = true
		default:
			u, err := url.Parse(origin)
			want = err == nil && u.Host == r.Host && !(tls && u.Scheme == "http")
		}
		if got := s.checkOrigin(r) == nil; got != want {
			t.Fatalf("%s over TLS %v with Origin %q, Sec-Fetch-Site %q (present %v): passes %v, want %v",
				method, tls, origin, site, hasSite, got, want)
		}
	})
}

// FuzzFailureLocation: failure_to is accepted exactly when it is a safe
// return path whose query url.ParseQuery reads, and the redirect built
// from it stays a path on this site (re-encoding never makes it one a
// browser reads as another host), with the same path and fragment, its
// other parameters, error=code and retry_after only when given.
func FuzzFailureLocation(f *testing.F) {
	for _, s := range []string{"/login", "/login?return_to=%2Fa%3Fb%3D1&lang=en", "/login?error=x&retry_after=1#f", "//evil.example",
		"/%2F%2Fevil", "/%2F/evil", "/.//evil", "/a b?c d", "/caf\u00e9", "/login?%zz", "/login?a=1;b=2", "/login?", "/login#", "/a:b", "/?x=//evil",
		"/%2F ", // u.String() would write "//%20", another host
	} {
		f.Add(s, uint16(0))
		f.Add(s, uint16(60))
	}
	base, _ := url.Parse("https://site.example/login")
	f.Fuzz(func(t *testing.T, v string, secs uint16) {
		loc, ok := failureLocation(v, "slow_down", int64(secs))
		u, err := url.Parse(v)
		var q url.Values
		want := safeReturnPath(v) && err == nil
		if want {
			q, err = url.ParseQuery(u.RawQuery)
			want = err == nil
		}
		if ok != want {
			t.Fatalf("failureLocation(%q) = %q, %v; want ok %v", v, loc, ok, want)
		}
		if !ok {
			return
		}
		if !safeReturnPath(loc) {
			t.Fatalf("failureLocation(%q) = %q: not a path on this site", v, loc)
		}
		l, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("failureLocation(%q) = %q: %v", v, loc, err)
		}
		if r := base.ResolveReference(l); r.Host != "site.example" || r.Scheme != "https" {
			t.Fatalf("failureLocation(%q) = %q leads to %s", v, loc, r)
		}
		if l.Path != u.Path || l.Fragment != u.Fragment {
			t.Fatalf("failureLocation(%q) = %q: path %q#%q, want %q#%q", v, loc, l.Path, l.Fragment, u.Path, u.Fragment)
		}
		q.Set(ParamError, "slow_down")
		q.Del(ParamRetryAfter)
		if secs > 0 {
			q.Set(ParamRetryAfter, strconv.Itoa(int(secs)))
		}
		if got := l.Query(); !reflect.DeepEqual(got, q) {
			t.Fatalf("failureLocation(%q) = %q: query %v, want %v", v, loc, got, q)
		}
	})
}
