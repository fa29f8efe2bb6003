package provider

import (
	"encoding/base64"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oauth2provider/oauth2provider/internal/query"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

func FuzzParseBasicAuth(f *testing.F) {
	for _, s := range []string{
		"Basic " + base64.StdEncoding.EncodeToString([]byte("conf:secret")),
		"Basic " + base64.StdEncoding.EncodeToString([]byte("svc%3Aa+b:s3cr%2Bt")),
		"basic   " + base64.StdEncoding.EncodeToString([]byte(":")),
		"Basic !!!", "Basic", "Bearer x", "", "Basic " + base64.StdEncoding.EncodeToString([]byte("a%zz:b")),
		"Baſic " + base64.StdEncoding.EncodeToString([]byte("conf:secret")), "Basic\t" + base64.StdEncoding.EncodeToString([]byte("conf:secret")),
		"Basic Y29uZjpzZWNyZXQ=\n", "Basic Y29uZjpz\r\nZWNyZXQ=", "Basic Y29uZjpzZWNyZXR=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		id, secret, isBasic, ok := parseBasicAuth(h)
		// net/http's reading of a Basic header, with the whitespace RFC
		// 7235 allows around the credentials taken out first, and each
		// half form-urlencoded (RFC 6749 §2.3.1).
		scheme, rest, _ := strings.Cut(h, " ")
		wantBasic := len(scheme) == len("basic") && strings.EqualFold(scheme, "basic") // ASCII letters alone, in any case
		r := &http.Request{Header: http.Header{"Authorization": {"Basic " + strings.Trim(rest, " \t")}}}
		u, pw, wantOK := r.BasicAuth()
		wantID, err1 := url.QueryUnescape(u)
		wantSecret, err2 := url.QueryUnescape(pw)
		wantOK = wantBasic && wantOK && err1 == nil && err2 == nil && wantID != ""
		if isBasic != wantBasic || ok != wantOK || ok && (id != wantID || secret != wantSecret) {
			t.Fatalf("parseBasicAuth(%q) = %q, %q, %v, %v; net/http: %q, %q, %v, %v", h, id, secret, isBasic, ok, wantID, wantSecret, wantBasic, wantOK)
		}
		if !isBasic || !ok {
			if id != "" || secret != "" {
				t.Fatalf("credentials returned with isBasic=%v ok=%v", isBasic, ok)
			}
			return
		}
		if id == "" {
			t.Fatal("empty client ID accepted")
		}
		// Re-encoding what was decoded must decode to the same pair.
		again := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
		id2, secret2, isBasic, ok := parseBasicAuth(again)
		if !isBasic || !ok || id2 != id || secret2 != secret {
			t.Fatalf("round trip of %q:%q gave %q:%q (isBasic=%v ok=%v)", id, secret, id2, secret2, isBasic, ok)
		}
	})
}

// FuzzUnescapeParam: the shortcut for values without escapes decodes
// exactly as url.QueryUnescape.
func FuzzUnescapeParam(f *testing.F) {
	for _, s := range []string{"", "plain", "a+b", "a%20b", "%zz", "100%", "s3cr%2Bt", "x%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := query.Unescape(s)
		want, wantErr := url.QueryUnescape(s)
		if got != want || (err == nil) != (wantErr == nil) {
			t.Fatalf("query.Unescape(%q) = %q, %v; url.QueryUnescape: %q, %v", s, got, err, want, wantErr)
		}
	})
}

// FuzzIsText holds isText to its definition, rune by rune: valid UTF-8
// of UNICODECHARNOCRLF (RFC 6749 Appendix A), the tab only when allowed.
func FuzzIsText(f *testing.F) {
	for _, s := range []string{"", "johndoe", "tab\there", "a\x00", "\xff", "pässwörd", "é\x00", "\u2028", "\uffff", "\U0010FFFF", "\xed\xa0\x80", "x\x7f"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, tab bool) {
		want := utf8.ValidString(s)
		for _, r := range s {
			if !(r == 0x09 && tab || 0x20 <= r && r <= 0x7e || 0x80 <= r && r <= 0xd7ff || 0xe000 <= r && r <= 0xfffd || 0x10000 <= r && r <= 0x10ffff) {
				want = false
			}
		}
		if got := isText(s, tab); got != want {
			t.Fatalf("isText(%q, %v) = %v, want %v", s, tab, got, want)
		}
	})
}

func FuzzParseForm(f *testing.F) {
	f.Add("grant_type=password&username=a&password=b", "application/x-www-form-urlencoded", "")
	f.Add("grant_type=password&grant_type=password", "application/x-www-form-urlencoded; charset=utf-8", "")
	f.Add("a=%zz", "application/x-www-form-urlencoded", "client_secret=x")
	f.Add(strings.Repeat("x=1&", 100), "text/plain", "a=b")
	f.Add("scope=a;b", "APPLICATION/X-WWW-FORM-URLENCODED", "%")
	f.Add("grant_type=x", "application/x-www-form-urlencoded;", "")
	f.Add("grant_type=x", "application/x-www-form-urlencoded; charset", "")
	f.Add("grant_type=x", " application/x-www-form-urlencoded ", "")
	f.Add("grant_type=x", "application/x-www-form-urlencoded, text/plain", "")
	st := memory.New(memory.Config{})
	p, err := New(Config{Clients: st, Tokens: st, MaxRequestBytes: 256})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body, contentType, query string) {
		r := httptest.NewRequest(http.MethodPost, "https://a.example/token", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", contentType)
		fm, e := p.parseForm(httptest.NewRecorder(), r)
		// Refused for exactly these: a secret in the query (held to
		// net/url by FuzzQueryHasSecret), a media type mime does not
		// read as form-urlencoded, a body over the limit, and what
		// checkFormAgainstParseQuery refuses.
		mt, _, err := mime.ParseMediaType(contentType)
		_, ferr := url.ParseQuery(body)
		refused := queryHasSecret(query) || err != nil || mt != formContentType || len(body) > 256
		if e != nil {
			if fm != (form{}) || e.Code != CodeInvalidRequest {
				t.Fatalf("error %v with form %v", e, fm)
			}
			if !refused && ferr == nil {
				if _, rerr := parseFormBody(body); rerr == nil {
					t.Fatalf("body %q, Content-Type %q, query %q refused: %v", body, contentType, query, e)
				}
			}
			return
		}
		if refused {
			t.Fatalf("body %q, Content-Type %q (media type %q, %v), query %q accepted", body, contentType, mt, err, query)
		}
		checkFormAgainstParseQuery(t, body, fm, nil)
	})
}

// FuzzParseFormBody checks the form parser against net/url.ParseQuery:
// malformed for the same bodies, and otherwise the same value of every
// known parameter, with a repeated one refused.
func FuzzParseFormBody(f *testing.F) {
	for _, s := range []string{
		"grant_type=password&username=a&password=b", "grant_type=a&grant_type=b",
		"a=%zz", "username=a+b%20c", "scope=read+write", "x=1;y=2", "&&=&=x&scope", "user%5Fid=1&user_id=2",
		"password=&password=", "token=%", "code=%4", "unknown=%GG&grant_type=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fm, err := parseFormBody(body)
		checkFormAgainstParseQuery(t, body, fm, err)
	})
}

// checkFormAgainstParseQuery fails t unless fm and err are what
// url.ParseQuery makes of body: an error for a malformed body, an
// errRepeated for a known parameter given twice with a value, else the
// same values.
func checkFormAgainstParseQuery(t *testing.T, body string, fm form, err error) {
	t.Helper()
	want, werr := url.ParseQuery(body)
	if werr != nil {
		if err == nil {
			t.Fatalf("%q: ParseQuery: %v; we accepted it", body, werr)
		}
		return
	}
	// A parameter sent without a value is omitted (RFC 6749 §3.1): only
	// non-empty values can repeat.
	var repeated bool
	for _, name := range knownParams {
		n := 0
		for _, v := range want[name] {
			if v != "" {
				n++
			}
		}
		repeated = repeated || n > 1
	}
	if repeated {
		if _, ok := err.(errRepeated); !ok {
			t.Fatalf("%q: a repeated parameter gave %v", body, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%q: %v, but ParseQuery accepts it", body, err)
	}
	for _, name := range knownParams {
		var w string // the one non-empty value, if any
		for _, v := range want[name] {
			if v != "" {
				w = v
			}
		}
		if got := fm.get(name); got != w {
			t.Fatalf("%q: %s = %q, want %q", body, name, got, w)
		}
	}
}
