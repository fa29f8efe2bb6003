package main

import (
	"net/http"
	"net/url"
	"testing"

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
		return signedInBrowser(u)
	}
	_, out, err := runFlow(t, srv.URL, browse)
	require.NoError(t, err, out)
}
