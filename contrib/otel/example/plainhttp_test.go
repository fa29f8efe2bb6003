package main

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Off loopback the example must not opt in to plain HTTP: a password
// grant over http:// on an address other hosts reach would carry the
// password, the client secret and the tokens in clear.
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_ = ln.Close()

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, net.JoinHostPort("0.0.0.0", port)) }()
	defer func() { cancel(); <-done }()

	form := url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}}
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:"+port+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-client", "demo-secret")
		resp, err = http.DefaultClient.Do(req)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("a password grant over plain HTTP on 0.0.0.0 issued tokens; want it refused")
	}
}
