package main

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// Off loopback the app must not opt in to plain HTTP: a login over
// http:// on an address other hosts reach would send the password and the
// session cookie (not Secure) in clear.
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_ = ln.Close()

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, net.JoinHostPort("0.0.0.0", port)) }()
	defer func() { cancel(); <-done }()

	form := url.Values{"username": {"johndoe"}, "password": {"foobar42"}}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err = client.PostForm("http://127.0.0.1:"+port+"/login", form)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode < 400 || len(resp.Cookies()) > 0 {
		t.Fatalf("plain-HTTP login on 0.0.0.0 answered %d with cookies %v; want it refused", resp.StatusCode, resp.Cookies())
	}
}
