package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/doccurl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGuide follows docs/getting-started.md: get a token with curl's
// request, call /hello with it, revoke it.
func TestGuide(t *testing.T) {
	h, secret, err := newServer(t.Context())
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	post := func(path string, form url.Values) *http.Response {
		req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("my-app", secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return resp
	}
	hello := func(tok string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/hello", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	resp := post("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}})
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var tok map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	assert.Equal(t, "Bearer", tok["token_type"])
	assert.Equal(t, "read", tok["scope"], "DefaultScopes when the request names none")
	assert.Equal(t, "user-1", tok["user_id"])

	status, body := hello(tok["access_token"].(string))
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "hello, user-1 (scopes: read)\n", body)

	status, _ = hello("not-a-token")
	assert.Equal(t, http.StatusUnauthorized, status)

	// curl -si /hello without a token: 401 with the Bearer challenge.
	bare, err := http.Get(srv.URL + "/hello")
	require.NoError(t, err)
	bare.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, bare.StatusCode)
	assert.Equal(t, `Bearer realm="oauth2provider"`, bare.Header.Get("WWW-Authenticate"))

	// The refresh step: a new pair; the spent refresh token presented
	// again revokes the whole grant.
	refresh := func(rt string) (*http.Response, map[string]any) {
		resp := post("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		defer resp.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp, body
	}
	resp2, tok2 := refresh(tok["refresh_token"].(string))
	require.Equal(t, http.StatusOK, resp2.StatusCode, tok2)
	assert.Equal(t, "read", tok2["scope"])
	assert.Equal(t, "user-1", tok2["user_id"])
	status, _ = hello(tok2["access_token"].(string))
	assert.Equal(t, http.StatusOK, status)
	resp3, reuse := refresh(tok["refresh_token"].(string))
	assert.Equal(t, http.StatusBadRequest, resp3.StatusCode)
	assert.Equal(t, "invalid_grant", reuse["error"])
	status, _ = hello(tok2["access_token"].(string))
	assert.Equal(t, http.StatusUnauthorized, status, "reuse revoked the grant")

	// Log out by revoking a token: a fresh grant, its refresh token.
	resp = post("/oauth2/token", url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}})
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	tok = nil
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	rev := post("/oauth2/revoke", url.Values{"token": {tok["refresh_token"].(string)}})
	rev.Body.Close()
	require.Equal(t, http.StatusOK, rev.StatusCode)
	status, _ = hello(tok["access_token"].(string))
	assert.Equal(t, http.StatusUnauthorized, status, "revoking the refresh token ends the access token")
}

// TestGuideCommandsAsWritten runs the curl commands of
// docs/getting-started.md themselves, in order, against this program (the
// secret and the tokens pasted from the earlier answers, as the reader
// does), and checks what the guide says they print: TestGuide checks the
// flow, this the commands a reader copies.
func TestGuideCommandsAsWritten(t *testing.T) {
	h, secret, err := newServer(t.Context())
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	md, err := os.ReadFile("../getting-started.md")
	require.NoError(t, err)
	cmds, err := doccurl.Commands(string(md))
	require.NoError(t, err)
	require.Len(t, cmds, 5, "the guide's curl commands: token, /hello with and without a token, refresh, revoke")

	vars := map[string]string{"SECRET": secret}
	for _, c := range cmds {
		req, include, err := c.Request(srv.URL, vars)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		out := string(body)
		if include {
			out = resp.Proto + " " + resp.Status + "\n" + out
		}
		if c.HeadOne {
			out, _, _ = strings.Cut(out, "\n")
		}
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && resp.StatusCode == http.StatusOK {
			var tok map[string]any
			require.NoError(t, json.Unmarshal(body, &tok), "line %d", c.Line)
			for _, k := range []string{"access_token", "refresh_token"} {
				if v, ok := tok[k].(string); ok {
					vars[k] = v
				}
			}
		}
		if req.Method == http.MethodPost { // the token, refresh and revocation requests all succeed
			assert.Equal(t, http.StatusOK, resp.StatusCode, "line %d: %s", c.Line, out)
		}
		for _, want := range c.Comments {
			// "# hello, user-1 (scopes: read)"; after a double space, a remark.
			want, _, _ = strings.Cut(want, "   ")
			assert.Equal(t, strings.TrimSpace(want), strings.TrimSpace(out), "line %d", c.Line)
		}
	}
}
