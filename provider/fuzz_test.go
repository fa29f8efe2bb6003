package provider

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/storage/memory"
)

func FuzzParseBasicAuth(f *testing.F) {
	for _, s := range []string{
		"Basic " + base64.StdEncoding.EncodeToString([]byte("conf:secret")),
		"Basic " + base64.StdEncoding.EncodeToString([]byte("svc%3Aa+b:s3cr%2Bt")),
		"basic   " + base64.StdEncoding.EncodeToString([]byte(":")),
		"Basic !!!", "Basic", "Bearer x", "", "Basic " + base64.StdEncoding.EncodeToString([]byte("a%zz:b")),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		id, secret, isBasic, err := parseBasicAuth(h)
		if !isBasic || err != nil {
			if id != "" || secret != "" {
				t.Fatalf("credentials returned with isBasic=%v err=%v", isBasic, err)
			}
			return
		}
		if id == "" {
			t.Fatal("empty client ID accepted")
		}
		// Re-encoding what was decoded must decode to the same pair.
		again := "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
		id2, secret2, ok, err := parseBasicAuth(again)
		if !ok || err != nil || id2 != id || secret2 != secret {
			t.Fatalf("round trip of %q:%q gave %q:%q (%v)", id, secret, id2, secret2, err)
		}
	})
}

func FuzzParseForm(f *testing.F) {
	f.Add("grant_type=password&username=a&password=b", "application/x-www-form-urlencoded", "")
	f.Add("grant_type=password&grant_type=password", "application/x-www-form-urlencoded; charset=utf-8", "")
	f.Add("a=%zz", "application/x-www-form-urlencoded", "client_secret=x")
	f.Add(strings.Repeat("x=1&", 100), "text/plain", "a=b")
	f.Add("scope=a;b", "APPLICATION/X-WWW-FORM-URLENCODED", "%")
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
		if e != nil {
			if fm != nil || e.Code != CodeInvalidRequest {
				t.Fatalf("error %v with form %v", e, fm)
			}
			return
		}
		if len(body) > 256 {
			t.Fatal("body over the limit accepted")
		}
		for _, name := range knownParams {
			if len(fm[name]) > 1 {
				t.Fatalf("repeated %s accepted", name)
			}
		}
	})
}
