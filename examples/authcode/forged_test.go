package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A request to the callback with another state (any web page can make
// the browser send one to a loopback URL) is not the answer: the run
// ignores it and completes with the real one, instead of failing with
// "state mismatch".
func TestRunIgnoresForgedCallback(t *testing.T) {
	srv := newServer(t)
	browse := func(u string) error {
		au, err := url.Parse(u)
		if err != nil {
			return err
		}
		forged, err := http.Get(au.Query().Get("redirect_uri") + "?code=forged&state=forged")
		if err != nil {
			return err
		}
		_ = forged.Body.Close()
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.AddCookie(&http.Cookie{Name: "user", Value: "1"})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}
	var out strings.Builder
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := run(ctx, config{issuer: srv.URL, clientID: "demo-spa", listen: "127.0.0.1:0", scopes: []string{"read"}, timeout: 10 * time.Second}, &out, browse)
	require.NoError(t, err, out.String())
}
