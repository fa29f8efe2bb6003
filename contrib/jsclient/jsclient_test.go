package jsclient_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/contrib/jsclient"
)

func serve(t *testing.T, method string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, "/js/oauth_client.js", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	jsclient.Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandlerServesScript(t *testing.T) {
	res := serve(t, http.MethodGet, nil)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)

	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
	assert.Regexp(t, `^"[A-Za-z0-9_-]{22}"$`, res.Header.Get("ETag"))
	assert.Equal(t, jsclient.Script(), body)
	assert.Contains(t, string(body), "window.OAuthClient")
	assert.Equal(t, len(body), int(res.ContentLength))
}

func TestHandlerHeadHasNoBody(t *testing.T) {
	res := serve(t, http.MethodHead, nil)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)

	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Empty(t, body)
	assert.NotEmpty(t, res.Header.Get("ETag"))
	assert.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
}

// RFC 9110 §13.1.2: If-None-Match uses the weak comparison and may list
// several tags or "*"; a match on GET or HEAD is 304 without a body.
func TestHandlerConditionalGet(t *testing.T) {
	tag := serve(t, http.MethodGet, nil).Header.Get("ETag")
	require.NotEmpty(t, tag)

	tests := []struct {
		name        string
		method      string
		ifNoneMatch string
		want        int
	}{
		{"same tag is not modified", http.MethodGet, tag, http.StatusNotModified},
		{"weak form of the tag matches", http.MethodGet, "W/" + tag, http.StatusNotModified},
		{"tag in a list matches", http.MethodGet, `"old", ` + tag, http.StatusNotModified},
		{"star matches", http.MethodGet, "*", http.StatusNotModified},
		{"HEAD honours the tag", http.MethodHead, tag, http.StatusNotModified},
		{"other tag is served", http.MethodGet, `"something-else"`, http.StatusOK},
		{"unquoted tag does not match", http.MethodGet, tag[1 : len(tag)-1], http.StatusOK},
		{"malformed list with the tag is served", http.MethodGet, tag + ` x`, http.StatusOK},
		{"tag and star is served", http.MethodGet, `*, ` + tag, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(t, tt.method, http.Header{"If-None-Match": {tt.ifNoneMatch}})
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.StatusCode)
			assert.Equal(t, tag, res.Header.Get("ETag"))
			assert.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
			if tt.want == http.StatusNotModified {
				assert.Empty(t, body)
				// RFC 9110 §15.4.5: a 304 carries no representation
				// metadata. net/http's HTTP/1 server drops Content-Type
				// itself, its HTTP/2 server does not: the handler must.
				assert.Empty(t, res.Header.Values("Content-Type"))
				assert.Empty(t, res.Header.Values("Content-Length"))
			} else if tt.method == http.MethodGet {
				assert.Equal(t, jsclient.Script(), body)
			}
		})
	}
}

func TestHandlerRefusesOtherMethods(t *testing.T) {
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		t.Run(m, func(t *testing.T) {
			res := serve(t, m, nil)
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
			assert.Equal(t, "GET, HEAD", res.Header.Get("Allow"))
			assert.NotContains(t, string(body), "OAuthClient")
		})
	}
}

func TestScriptReturnsACopy(t *testing.T) {
	a := jsclient.Script()
	require.NotEmpty(t, a)
	a[0] ^= 0xff
	assert.False(t, bytes.Equal(a, jsclient.Script()))
}
