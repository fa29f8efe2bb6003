package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/servetest"
)

// Off loopback the example must not opt in to plain HTTP: a password
// grant over http:// on an address other hosts reach would carry the
// password, the client secret and the tokens in clear.
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	base := servetest.StartOn(t, "0.0.0.0", run)
	form := url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}}
	req, err := http.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-client", "demo-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("a password grant over plain HTTP on 0.0.0.0 issued tokens; want it refused")
	}
}
