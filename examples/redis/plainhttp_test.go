package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/servetest"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
)

// Off loopback the app must not opt in to plain HTTP: a login or a
// password grant over http:// on an address other hosts reach would send
// the password, and answer with a cookie or token, in clear.
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	u, err := url.Parse(storeurltest.Redis(t))
	require.NoError(t, err)
	q := u.Query()
	prefix := q.Get("prefix")
	q.Del("prefix")
	u.RawQuery = q.Encode()
	base := servetest.StartOn(t, "0.0.0.0", func(ctx context.Context, addr string) error {
		return serve(ctx, addr, u.String(), prefix)
	})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	login := url.Values{"username": {"johndoe"}, "password": {"foobar42"}}
	resp, err := client.PostForm(base+"/login", login)
	require.NoError(t, err)
	_ = resp.Body.Close()
	if resp.StatusCode < 400 || len(resp.Cookies()) > 0 {
		t.Errorf("plain-HTTP login on 0.0.0.0 answered %d with cookies %v; want it refused", resp.StatusCode, resp.Cookies())
	}
	grant := url.Values{"grant_type": {"password"}, "client_id": {webClientID}, "username": {"johndoe"}, "password": {"foobar42"}}
	resp, err = client.PostForm(base+"/oauth2/token", grant)
	require.NoError(t, err)
	_ = resp.Body.Close()
	if resp.StatusCode < 400 {
		t.Errorf("plain-HTTP password grant on 0.0.0.0 answered %d; want it refused", resp.StatusCode)
	}
}
