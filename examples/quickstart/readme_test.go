package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/doccurl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeCommandsAsWritten runs the curl session of the repository's
// README.md itself, in order, against the quickstart, pasting each
// elided token (oat_…, ort_…) from the answer before, as a reader does:
// every command succeeds, and the token answer the README shows has the
// fields and values it shows (a value with "…" only its beginning).
func TestReadmeCommandsAsWritten(t *testing.T) {
	srv := newTestServer(t, options{})
	md, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	cmds, err := doccurl.Commands(string(md))
	require.NoError(t, err)
	require.Len(t, cmds, 3, "the README's curl session: password grant, /api/me, refresh")

	vars := map[string]string{}
	for _, c := range cmds {
		req, _, err := c.Request(srv.URL, vars)
		require.NoError(t, err)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "README.md:%d: %s", c.Line, body)

		var got map[string]any
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			require.NoError(t, json.Unmarshal(body, &got), "README.md:%d", c.Line)
		}
		for _, k := range []string{"access_token", "refresh_token"} {
			if v, ok := got[k].(string); ok {
				vars[k] = v
			}
		}
		if len(c.Comments) == 0 {
			continue
		}
		var want map[string]any
		require.NoError(t, json.Unmarshal([]byte(strings.Join(c.Comments, " ")), &want),
			"README.md:%d: the answer shown is not JSON", c.Line)
		assert.Len(t, got, len(want), "README.md:%d: fields %v, shown %v", c.Line, got, want)
		for k, w := range want {
			if s, ok := w.(string); ok && strings.Contains(s, "…") {
				prefix, _, _ := strings.Cut(s, "…")
				g, _ := got[k].(string)
				assert.True(t, strings.HasPrefix(g, prefix), "README.md:%d: %s is %q, shown %q", c.Line, k, g, s)
				continue
			}
			assert.Equal(t, w, got[k], "README.md:%d: %s", c.Line, k)
		}
	}
}
