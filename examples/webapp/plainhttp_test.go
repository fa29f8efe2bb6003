package main

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/servetest"
)

// Off loopback the app must not opt in to plain HTTP: a login over
// http:// on an address other hosts reach would send the password and the
// session cookie (not Secure) in clear.
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	base := servetest.StartOn(t, "0.0.0.0", serve)
	form := url.Values{"username": {"johndoe"}, "password": {"foobar42"}}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(base+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode < 400 || len(resp.Cookies()) > 0 {
		t.Fatalf("plain-HTTP login on 0.0.0.0 answered %d with cookies %v; want it refused", resp.StatusCode, resp.Cookies())
	}
}
