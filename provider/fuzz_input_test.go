package provider

import (
	"mime"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/oauth2provider/oauth2provider/internal/scope"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// Fuzz targets of the parsers of request input not covered by
// fuzz_test.go: scope, redirect_uri, PKCE, the consent form token,
// X-Forwarded-For and -Proto, secrets in the URL query, the usernames the
// throttle keys, and the path a return-to is made of.

// FuzzParseScope holds parseScope to its definition, by the simplest
// means (strings.Split, a linear search): the distinct scope-tokens in
// order, runs of spaces tolerated, invalid_scope for a malformed token or
// more than maxRequestedScopes distinct ones; and what it returns
// formats to a scope parameter that parses back to the same list.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{
		"", " ", "read", "read write", "read  read write", " a b a c ", "a\tb", "a\"b", `a\b`, "é", "x\x7f", "s1 s2 s17",
	} {
		f.Add(s, uint16(0))
	}
	f.Add("s3 new s3", uint16(20))
	f.Add("", uint16(256))
	f.Add("one more", uint16(255))
	f.Add("s0", uint16(299))
	f.Fuzz(func(t *testing.T, s string, n uint16) {
		// n%300 distinct tokens before s, past the linear search
		// (smallScopeList) and up to the limit, without a corpus of
		// long inputs.
		var b strings.Builder
		for i := range int(n % 300) {
			b.WriteString("s" + strconv.Itoa(i) + " ")
		}
		s = b.String() + s
		got, e := parseScope(s)
		var want []string
		wantOK := true
		for _, tok := range strings.Split(s, " ") {
			if tok == "" {
				continue
			}
			if !scope.ValidToken(tok) {
				wantOK = false
				break
			}
			if !slices.Contains(want, tok) {
				want = append(want, tok)
			}
		}
		if len(want) > maxRequestedScopes {
			wantOK = false
		}
		if !wantOK {
			if e == nil || e.Code != CodeInvalidScope || got != nil {
				t.Fatalf("parseScope(%q) = %q, %v; want invalid_scope", s, got, e)
			}
			return
		}
		if e != nil || !slices.Equal(got, want) {
			t.Fatalf("parseScope(%q) = %q, %v; want %q", s, got, e, want)
		}
		again, e := parseScope(formatScope(got))
		if e != nil || !slices.Equal(again, got) {
			t.Fatalf("parseScope(formatScope(%q)) = %q, %v", got, again, e)
		}
	})
}

// FuzzMatchRedirectURI: a requested redirect_uri matches a registered
// one that is the same string, and otherwise only when net/url reads both
// as http URIs without user information whose host is the same loopback
// IP literal (no zone) and that differ in nothing but a numeric port
// (RFC 8252 §7.3). Matching is symmetric. And two such URIs do match,
// whatever their ports: a registered one matches itself with any port or
// none.
func FuzzMatchRedirectURI(f *testing.F) {
	for _, p := range [][2]string{
		{"https://app.example/cb", "https://app.example/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:51004/cb"},
		{"http://[::1]:80/cb?x=1", "http://[::1]:5/cb?x=1"},
		{"http://127.0.0.1:1/cb", "http://127.0.0.1:1@evil.example/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:80\\@evil.example/cb"},
		{"http://127.0.0.1/", "http://[127.0.0.1]:8/"},
		{"http://[::1]/", "http://[::1%25eth0]:8/"},
		{"http://[::ffff:127.0.0.1]/", "http://[::ffff:127.0.0.1]:9/"},
		{"http://localhost/cb", "http://localhost:8080/cb"},
		{"http://127.0.0.1:99999/#f", "http://127.0.0.1:0/#f"},
		{"http://127.1/", "http://127.1:2/"},
	} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, reg, req string) {
		got := matchRedirectURI([]string{reg}, req)
		if got != matchRedirectURI([]string{req}, reg) {
			t.Fatalf("matching %q and %q is not symmetric", reg, req)
		}
		if rh, rrest, ok := loopbackParts(reg); ok {
			for _, port := range []string{"", ":1", ":65535", ":99"} {
				if other := "http://" + rh + port + rrest; !matchRedirectURI([]string{reg}, other) {
					t.Fatalf("%q does not match %q, which differs in the port alone", reg, other)
				}
			}
			if qh, qrest, ok := loopbackParts(req); ok && qh == rh && qrest == rrest && !got {
				t.Fatalf("%q does not match %q, which differs in the port alone", reg, req)
			}
		}
		if reg == req {
			if !got {
				t.Fatalf("%q does not match itself", reg)
			}
			return
		}
		if !got {
			return
		}
		ru, qu := loopbackURL(t, reg), loopbackURL(t, req)
		if ru.Hostname() != qu.Hostname() {
			t.Fatalf("%q matched %q: hosts %q and %q", req, reg, qu.Hostname(), ru.Hostname())
		}
		if reg[len("http://")+len(ru.Host):] != req[len("http://")+len(qu.Host):] {
			t.Fatalf("%q matched %q, which differs in more than the port", req, reg)
		}
	})
}

// loopbackParts reads s as net/url does and reports whether it is an
// http URI of RFC 8252 §7.3, a loopback IP literal for host (no zone, an
// IPv4 address not in brackets) and no user information, with a port of
// one to five digits or none; and if so, its host as written (with
// brackets for IPv6) and what follows the authority.
func loopbackParts(s string) (host, rest string, ok bool) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || u.Opaque != "" || u.User != nil || !strings.HasPrefix(s, "http://"+u.Host) {
		return "", "", false
	}
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil || !ip.IsLoopback() || ip.Zone() != "" {
		return "", "", false
	}
	host = u.Hostname()
	if strings.HasPrefix(u.Host, "[") {
		if ip.Is4() {
			return "", "", false
		}
		host = "[" + host + "]"
	}
	if port, found := strings.CutPrefix(u.Host[len(host):], ":"); found &&
		(port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "") {
		return "", "", false
	}
	return host, s[len("http://")+len(u.Host):], true
}

// loopbackURL parses s, which matched another URI without being equal
// to it, and fails t unless net/url reads it as an http URI with a
// loopback IP literal for host, a numeric port or none, and no user
// information.
func loopbackURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("%q matched, but net/url refuses it: %v", s, err)
	}
	if u.Scheme != "http" || u.Opaque != "" || u.User != nil || !strings.HasPrefix(s, "http://"+u.Host) {
		t.Fatalf("%q matched: scheme %q, user %v, host %q", s, u.Scheme, u.User, u.Host)
	}
	ip, err := netip.ParseAddr(u.Hostname())
	if err != nil || !ip.IsLoopback() || ip.Zone() != "" {
		t.Fatalf("%q matched: host %q is no loopback IP literal", s, u.Hostname())
	}
	if port := u.Port(); strings.Trim(port, "0123456789") != "" {
		t.Fatalf("%q matched: port %q", s, port)
	}
	return u
}

// fuzzAuthorizeHandler returns the authorization endpoint of a provider
// with cfg on an empty memory store, with no user signed in.
func fuzzAuthorizeHandler(f *testing.F, cfg Config) *authorizeHandler {
	st := memory.New(memory.Config{})
	cfg.Clients, cfg.Tokens = st, st
	p, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	hh, err := p.AuthorizeHandler(AuthorizeConfig{
		SignedInUser: func(*http.Request) (string, error) { return "", nil },
		LoginURL:     "/login", ConsentKey: []byte(strings.Repeat("k", 32)),
	})
	if err != nil {
		f.Fatal(err)
	}
	return hh.(*authorizeHandler)
}

// FuzzConsentToken: the form token of a consent page is accepted for its
// user and request, and nothing else is: not another string (the token
// with a byte changed, inserted or removed, or anything else), not for
// another user, not for another request.
func FuzzConsentToken(f *testing.F) {
	f.Add("alice", "bob", "", "read", uint8(0), byte('A'), uint8(0))
	f.Add("", "\x00", "AAAA", "read write", uint8(10), byte('\n'), uint8(1))
	f.Add("u", "u", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "", uint8(55), byte('\r'), uint8(1))
	f.Add("u", "v", "", "read", uint8(56), byte('='), uint8(1))
	f.Add("u", "v", "", "read", uint8(3), byte('-'), uint8(2))
	now := time.Unix(1_700_000_000, 0)
	h := fuzzAuthorizeHandler(f, Config{Now: func() time.Time { return now }})
	ar := &authorizeRequest{params: url.Values{paramClientID: {"web"}, paramScope: {"read"}}}
	f.Fuzz(func(t *testing.T, user, other, forged, scope string, at uint8, c byte, edit uint8) {
		tok := h.consentToken(user, ar)
		if !h.checkConsentToken(tok, user, ar) {
			t.Fatalf("the token %q of %q is refused", tok, user)
		}
		if other != user && h.checkConsentToken(tok, other, ar) {
			t.Fatalf("the token of %q is accepted for %q", user, other)
		}
		if forged != tok && h.checkConsentToken(forged, user, ar) {
			t.Fatalf("%q accepted for %q (the token is %q)", forged, user, tok)
		}
		if scope != "read" {
			ar2 := &authorizeRequest{params: url.Values{paramClientID: {"web"}, paramScope: {scope}}}
			if h.checkConsentToken(tok, user, ar2) {
				t.Fatalf("the token of scope=read is accepted for scope=%q", scope)
			}
		}
		// The token, edited: a byte changed, inserted or removed.
		i := int(at) % (len(tok) + 1)
		var edited string
		switch edit % 3 {
		case 0:
			if i == len(tok) {
				return
			}
			edited = tok[:i] + string([]byte{c}) + tok[i+1:]
		case 1:
			edited = tok[:i] + string([]byte{c}) + tok[i:]
		default:
			if i == len(tok) {
				return
			}
			edited = tok[:i] + tok[i+1:]
		}
		if edited != tok && h.checkConsentToken(edited, user, ar) {
			t.Fatalf("%q, the token %q edited, is accepted", edited, tok)
		}
	})
}

// FuzzForwarded holds ClientIP and IsHTTPS to their definitions, written
// the plain way (strings.Split over every header value): ClientIP is the
// remote address unless that is a trusted proxy, then the right-most hop
// of X-Forwarded-For that is not, stopping at a malformed hop; IsHTTPS
// believes the last X-Forwarded-Proto value from a trusted proxy only.
func FuzzForwarded(f *testing.F) {
	f.Add("10.0.0.1:443", "203.0.113.9, 10.0.0.2", "", "https", true)
	f.Add("[::1]:1", "2001:db8::1, [::ffff:10.0.0.3]:80", "198.51.100.1", "http,https", false)
	f.Add("10.1.2.3", " , ,bogus, 10.0.0.9", "", "HTTPS ", true)
	f.Add("[fe80::1%eth0]:5", "1.2.3.4", "5.6.7.8:9", "https, http", false)
	f.Add("not an address", "1.2.3.4", "", "https", false)
	f.Add("192.0.2.1:1", "10.0.0.1", "", "https", true)
	f.Add("10.0.0.1:443", "203.0.113.9, ::ffff:10.0.0.5", "", "http, http, https", false) // a 4in6 trusted hop; three protocols
	f.Add("10.0.0.1:443", "::ffff:198.51.100.7", "", "https, https, http", true)
	f.Add("10.0.0.1:443", "1.2.3.4", "", "httpſ", false)
	st := memory.New(memory.Config{})
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fe80::/10")}
	p, err := New(Config{Clients: st, Tokens: st, TrustedProxies: trusted})
	if err != nil {
		f.Fatal(err)
	}
	isTrusted := func(a netip.Addr) bool {
		for _, pfx := range trusted {
			if a.IsValid() && pfx.Contains(a.WithZone("")) {
				return true
			}
		}
		return false
	}
	parse := func(s string) (netip.Addr, bool) {
		if a, err := netip.ParseAddr(s); err == nil {
			return a.Unmap(), true
		}
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr().Unmap(), true
		}
		return netip.Addr{}, false
	}
	f.Fuzz(func(t *testing.T, remote, xff1, xff2, proto string, tls bool) {
		r := httptest.NewRequest(http.MethodGet, "https://as.example/", nil)
		r.RemoteAddr = remote
		if !tls {
			r.TLS = nil
		}
		xff := []string{xff1}
		if xff2 != "" {
			xff = append(xff, xff2)
		}
		r.Header["X-Forwarded-For"] = xff
		if proto != "" {
			r.Header["X-Forwarded-Proto"] = strings.SplitAfter(proto, ";")
		}

		addr, _ := parse(remote)
		want := addr
		if isTrusted(addr) {
			var hops []string
			for _, v := range xff {
				hops = append(hops, strings.Split(v, ",")...)
			}
			for i := len(hops) - 1; i >= 0; i-- {
				hop := strings.TrimSpace(hops[i])
				if hop == "" {
					continue
				}
				a, ok := parse(hop)
				if !ok {
					break
				}
				want = a
				if !isTrusted(a) {
					break
				}
			}
		}
		if got := p.ClientIP(r); got != want {
			t.Fatalf("ClientIP(RemoteAddr %q, X-Forwarded-For %q) = %v, want %v", remote, xff, got, want)
		}

		wantHTTPS := tls
		if vs := r.Header["X-Forwarded-Proto"]; len(vs) > 0 && isTrusted(addr) {
			list := strings.Split(vs[len(vs)-1], ",")
			wantHTTPS = strings.ToLower(strings.TrimSpace(list[len(list)-1])) == "https" // ASCII: "httpſ" is not https
		}
		if got := p.IsHTTPS(r); got != wantHTTPS {
			t.Fatalf("IsHTTPS(RemoteAddr %q, X-Forwarded-Proto %q, TLS %v) = %v", remote, r.Header["X-Forwarded-Proto"], tls, got)
		}
	})
}

// FuzzQueryHasSecret: a URL query is refused whenever net/url would read
// a secret parameter from it, with ';' taken for a separator as well
// (other servers and proxies do), and only then.
func FuzzQueryHasSecret(f *testing.F) {
	for _, s := range []string{
		"", "client_secret=x", "a=1;password=x", "client%5Fsecret=x", "pass%77ord", "x=1&code",
		"a=%zz&token=1", "refresh+token=1", "client_id%3D=1", "code_verifier;", "%zz=1&q=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		want := false
		for _, pair := range strings.FieldsFunc(q, func(r rune) bool { return r == '&' || r == ';' }) {
			key, _, _ := strings.Cut(pair, "=")
			if slices.Contains(secretParams, key) {
				want = true
			}
			if k, err := url.QueryUnescape(key); err == nil && slices.Contains(secretParams, k) {
				want = true
			}
		}
		vals, _ := url.ParseQuery(strings.ReplaceAll(q, ";", "&"))
		for _, name := range secretParams {
			if vals.Has(name) && !want {
				t.Fatalf("net/url reads %s from %q", name, q)
			}
		}
		if got := queryHasSecret(q); got != want {
			t.Fatalf("queryHasSecret(%q) = %v, want %v", q, got, want)
		}
	})
}

// FuzzFoldUsername: folding a username (any text a request may carry as
// one) is idempotent, so that a folded key names its own spelling; two
// spellings strings.EqualFold takes for one (each rune of s replaced by
// one of its case variants, as unicode.SimpleFold cycles through them,
// picked by steps) fold to one key, as foldUsername's doc promises: an
// attacker who respells a username in another case gets no fresh budget;
// and for an ASCII username it is strings.ToLower with white space
// trimmed and each run collapsed to one space.
func FuzzFoldUsername(f *testing.F) {
	for _, s := range []string{
		"johndoe", " John\t Doe ", "ｊｏｈｎｄｏｅ", "straße", "Σίσυφος", "al\u00b7\u00b7la", "x\U00010783y",
		"ǅ", "ﬀ", "ΐ", "\u0345", "l\u00b7\u0387L", "a\u200bb", "ᏸ", "İstanbul", "ǰ̌", "\ufdfa", "a\u3000 b",
	} {
		f.Add(s, []byte{1, 2, 3})
	}
	f.Add("jo\u212Ahn", []byte{2, 1}) // the Kelvin sign: k, K and K are one letter to strings.EqualFold
	f.Fuzz(func(t *testing.T, s string, steps []byte) {
		if !isText(s, true) {
			return // refused before it is folded
		}
		got := foldUsername(s)
		if again := foldUsername(got); again != got {
			t.Fatalf("foldUsername(%+q) = %+q, but that folds to %+q", s, got, again)
		}
		var b strings.Builder
		i := 0
		for _, r := range s {
			if len(steps) > 0 {
				for range steps[i%len(steps)] % 4 {
					r = unicode.SimpleFold(r)
				}
			}
			b.WriteRune(r)
			i++
		}
		if u := b.String(); !strings.EqualFold(s, u) {
			t.Fatalf("%+q and %+q differ to strings.EqualFold", s, u) // the test's own mistake
		} else if fu := foldUsername(u); isText(u, true) && fu != got {
			t.Fatalf("foldUsername(%+q) = %+q, but foldUsername(%+q) = %+q: strings.EqualFold takes them for one", s, got, u, fu)
		}
		ascii := true
		for i := range len(s) {
			ascii = ascii && s[i] < 0x80
		}
		if want := strings.Join(strings.Fields(strings.ToLower(s)), " "); ascii && got != want {
			t.Fatalf("foldUsername(%q) = %q, want %q", s, got, want)
		}
	})
}

// FuzzLocalPath: whatever path a request carries, the return-to and form
// action made of it stay on this site: a path a browser resolves against
// the site's origin, never to another host. And it is the request's own
// path (net/url reads it back as r.URL.Path), or "/", which it may be
// only for a path that is empty, relative or starts with "//" or "/\\":
// a path that is safe as it is is kept, so that login returns to the
// page it came from.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/oauth2/authorize", "//evil.example/x", "/\\evil.example", "", "x", "/%2F/evil", "/\t/evil", "/a b", "/a?b#c", "/caf\u00e9;x=1"} {
		f.Add(s, "")
	}
	f.Add("//evil", "/%2Fevil")
	base, _ := url.Parse("https://as.example/oauth2/authorize")
	f.Fuzz(func(t *testing.T, path, rawPath string) {
		r := &http.Request{URL: &url.URL{Path: path, RawPath: rawPath}}
		got := localPath(r)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") ||
			strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("localPath of %q (raw %q) = %q", path, rawPath, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("localPath of %q (raw %q) = %q, which net/url refuses: %v", path, rawPath, got, err)
		}
		if res := base.ResolveReference(u); res.Scheme != "https" || res.Host != "as.example" || res.User != nil {
			t.Fatalf("localPath of %q (raw %q) = %q, which leads to %v", path, rawPath, got, res)
		}
		if got != "/" && u.Path != path {
			t.Fatalf("localPath of %q (raw %q) = %q, which is the path %q", path, rawPath, got, u.Path)
		}
		unsafe := !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.HasPrefix(path, "/\\")
		if got == "/" && path != "/" && !unsafe {
			t.Fatalf("localPath of %q (raw %q) = \"/\", but the path is safe", path, rawPath)
		}
	})
}

// FuzzRedirectWith: the answer to a client keeps its redirect URI's own
// query, adds params, and carries no fragment, whatever the URI holds.
func FuzzRedirectWith(f *testing.F) {
	for _, s := range []string{"https://app.example/cb", "https://app.example/cb?x=1", "https://app.example/cb?", "https://app.example/cb?x=1&", "http://127.0.0.1:5/cb#frag", "https://a.example/?code=evil"} {
		f.Add(s, "a code", "st&ate=1")
	}
	f.Fuzz(func(t *testing.T, uri, code, state string) {
		u, err := url.Parse(uri)
		if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
			return // a redirect URI is registered absolute
		}
		before, qerr := url.ParseQuery(u.RawQuery)
		got := redirectWith(uri, url.Values{paramCode: {code}, paramState: {state}})
		v, err := url.Parse(got)
		if err != nil {
			t.Fatalf("redirectWith(%q) = %q, which net/url refuses: %v", uri, got, err)
		}
		if v.Fragment != "" || strings.Contains(got, "#") {
			t.Fatalf("redirectWith(%q) = %q keeps a fragment", uri, got)
		}
		if v.Scheme != u.Scheme || v.Host != u.Host || v.EscapedPath() != u.EscapedPath() {
			t.Fatalf("redirectWith(%q) = %q goes elsewhere", uri, got)
		}
		after, err := url.ParseQuery(v.RawQuery)
		if qerr == nil && err != nil {
			t.Fatalf("redirectWith(%q) = %q: %v", uri, got, err)
		}
		if vs := after[paramCode]; len(vs) == 0 || vs[len(vs)-1] != code {
			t.Fatalf("redirectWith(%q) = %q: code %q", uri, got, vs)
		}
		if vs := after[paramState]; len(vs) == 0 || vs[len(vs)-1] != state {
			t.Fatalf("redirectWith(%q) = %q: state %q", uri, got, vs)
		}
		if qerr == nil {
			for k, vs := range before {
				if n := len(vs); len(after[k]) < n || !slices.Equal(after[k][:n], vs) {
					t.Fatalf("redirectWith(%q) = %q lost %s=%q", uri, got, k, vs)
				}
			}
		}
	})
}

// FuzzOtherMachine: a redirect URI's host that otherMachine takes for
// another machine is none a browser sends to this one: after the
// browser's mapping of a name (browserHost, UTS #46 in short), not
// localhost or a name under it, no loopback or unspecified IPv6 address,
// and no IPv4 address in any form the URL Standard's IPv4 parser reads
// (decimal, octal, hex, one to four parts, a trailing dot). And the
// other way, as its doc promises, for an ASCII host: an address net/netip
// reads (in lower case, without one trailing dot) is another machine
// exactly when, unmapped, it is neither loopback nor unspecified; a name
// of letters, digits, "-" and "_" labels is another machine unless it has
// a single label, is or ends in .localhost, is localhost.localdomain or
// localhost6.localdomain6, or ends in a label that is a number (digits,
// or "0x" and hex digits; after "0x" and anything else either answer
// will do).
func FuzzOtherMachine(f *testing.F) {
	for _, s := range []string{
		"app.example", "localhost", "LocalHost.", "127.0.0.1", "0177.0.0.1", "0x7F.1", "2130706433", "127.1.",
		"017700000001", "0x7f.0x0.0.01", "::1", "::ffff:127.0.0.1", "0.0.0.0", "0", "0x", "1.2.3.4.5", "１２７.０.０.１",
		"ｌｏｃａｌｈｏｓｔ", "localhost。", "a.localhost", "x.0x", "09.1", "bücher.example",
		"10.0.0.7", "192.0.2.1.", "::ffff:10.0.0.1", "2001:db8::1", "fe80::1%eth0", "APP.Example.", "a.b-c_d.example",
		"localhost.localdomain", "myhost", "a.1-2", "x.0xfg",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		if want, ok := otherMachineASCII(host); ok && otherMachine(host) != want {
			t.Fatalf("otherMachine(%q) = %v, want %v", host, !want, want)
		}
		if !otherMachine(host) {
			return // beyond what otherMachineASCII answers, refusing more is safe: a consent page is shown
		}
		h := strings.TrimSuffix(strings.ToLower(strings.ReplaceAll(norm.NFKC.String(host), "\u3002", ".")), ".")
		if h == "localhost" || strings.HasSuffix(h, ".localhost") {
			t.Fatalf("otherMachine(%q): a browser reads it as localhost", host)
		}
		if ip, err := netip.ParseAddr(h); err == nil && (ip.Unmap().IsLoopback() || ip.Unmap().IsUnspecified()) {
			t.Fatalf("otherMachine(%q): a loopback or unspecified address", host)
		}
		if a, ok := whatwgIPv4(h); ok && (a>>24 == 127 || a == 0) {
			t.Fatalf("otherMachine(%q): a browser reads it as %d.%d.%d.%d", host, a>>24, a>>16&255, a>>8&255, a&255)
		}
	})
}

// otherMachineASCII is what otherMachine's doc promises for an ASCII
// host that net/netip reads as an address or that is a name of letters,
// digits, "-" and "_" labels (ok); for any other host, it has no answer.
func otherMachineASCII(host string) (other, ok bool) {
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			return false, false
		}
	}
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if ip, err := netip.ParseAddr(h); err == nil {
		ip = ip.Unmap()
		return !ip.IsLoopback() && !ip.IsUnspecified(), true
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false, false
		}
	}
	last := labels[len(labels)-1]
	if hex, ok := strings.CutPrefix(last, "0x"); ok {
		if strings.Trim(hex, "0123456789abcdef") != "" {
			return false, false // not a number by the URL Standard; refusing it is safe
		}
		return false, true
	}
	switch {
	case len(labels) == 1, strings.HasSuffix(h, ".localhost"),
		h == "localhost.localdomain", h == "localhost6.localdomain6",
		strings.Trim(last, "0123456789") == "":
		return false, true
	}
	return true, true
}

// whatwgIPv4 is the URL Standard's IPv4 parser (§3.5), for an ASCII host
// already lower-cased.
func whatwgIPv4(h string) (uint32, bool) {
	parts := strings.Split(h, ".")
	if len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return 0, false
	}
	var nums []uint64
	for _, p := range parts {
		if p == "" {
			return 0, false
		}
		radix := 10
		switch {
		case strings.HasPrefix(p, "0x"):
			p, radix = p[2:], 16
		case len(p) >= 2 && p[0] == '0':
			p, radix = p[1:], 8
		}
		n := uint64(0)
		if p != "" { // "0x" alone is 0
			v, err := strconv.ParseUint(p, radix, 64)
			if err != nil || strings.ContainsAny(p, "+-_") {
				return 0, false // not a number, or one too large for any address
			}
			n = v
		}
		nums = append(nums, n)
	}
	if len(nums) == 0 {
		return 0, false
	}
	last := nums[len(nums)-1]
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return 0, false
		}
	}
	if last >= 1<<(8*(5-len(nums))) {
		return 0, false
	}
	a := last
	for i, n := range nums[:len(nums)-1] {
		a += n << (8 * (3 - i))
	}
	return uint32(a), true
}

// FuzzAuthorizeParams: the authorization endpoint reads the parameters
// of a GET from its query and of a POST from a form-urlencoded body
// (mime's reading of Content-Type), as net/url reads them less the
// values that are empty (RFC 6749 §3.1: omitted); refuses them when
// net/url cannot, when they exceed MaxRequestBytes, or when client_id,
// redirect_uri, consent_token or decision is repeated with a value; and
// reads nothing else.
func FuzzAuthorizeParams(f *testing.F) {
	f.Add(true, "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=x", "")
	f.Add(false, "client_id=web&client_id=web", "application/x-www-form-urlencoded; charset=utf-8")
	f.Add(false, "a=1;b=2", "application/x-www-form-urlencoded")
	f.Add(false, "decision=allow", "APPLICATION/X-WWW-FORM-URLENCODED")
	f.Add(false, "decision=allow", "text/plain")
	f.Add(true, "scope=a&scope=b&state=%zz", "")
	f.Add(true, strings.Repeat("x", 300), "")
	f.Add(true, "client_id=&client_id=web&state=&scope", "")
	f.Add(false, "consent_token=&decision=allow&decision=", "application/x-www-form-urlencoded")
	h := fuzzAuthorizeHandler(f, Config{MaxRequestBytes: 256})
	f.Fuzz(func(t *testing.T, get bool, raw, contentType string) {
		var r *http.Request
		if get {
			r = httptest.NewRequest(http.MethodGet, "https://as.example/authorize", nil)
			r.URL.RawQuery = raw
		} else {
			r = httptest.NewRequest(http.MethodPost, "https://as.example/authorize?client_id=query", strings.NewReader(raw))
			r.Header.Set("Content-Type", contentType)
		}
		got, e := h.readParams(httptest.NewRecorder(), r)
		want, err := url.ParseQuery(raw)
		for name, vs := range want {
			var kept []string
			for _, v := range vs {
				if v != "" {
					kept = append(kept, v)
				}
			}
			if kept == nil {
				delete(want, name)
			} else {
				want[name] = kept
			}
		}
		mt, _, mterr := mime.ParseMediaType(contentType)
		ok := err == nil && len(raw) <= 256 && (get || mterr == nil && mt == "application/x-www-form-urlencoded")
		for _, name := range []string{paramClientID, paramRedirectURI, paramConsentToken, paramDecision} {
			ok = ok && len(want[name]) <= 1
		}
		if (e == nil) != ok {
			t.Fatalf("get %v, %q, Content-Type %q: %v, want an error: %v", get, raw, contentType, e, !ok)
		}
		if e == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("get %v, %q: read as %q, net/url: %q", get, raw, got, want)
		}
	})
}
