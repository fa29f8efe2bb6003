package doccurl

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCommands(t *testing.T) {
	md := "text\n\n```sh\ngo run .\n# not a curl's output\nSECRET=…\n" +
		"curl -s -u \"my-app:$SECRET\" -d grant_type=password \\\n     -d 'username=john doe' http://127.0.0.1:8080/oauth2/token\n" +
		"# {\"a\":1}\n\n# a heading, not output\ncurl -si http://127.0.0.1:8080/hello | head -1\n# HTTP/1.1 401\n```\n\n" +
		"```go\ncurl := 1\n```\n"
	cmds, err := Commands(md)
	require.NoError(t, err)
	require.Len(t, cmds, 2)
	assert.Equal(t, Command{Line: 7, Args: []string{"-s", "-u", "my-app:$SECRET", "-d", "grant_type=password", "-d", "username=john doe", "http://127.0.0.1:8080/oauth2/token"},
		Comments: []string{`{"a":1}`}}, cmds[0])
	assert.Equal(t, Command{Line: 12, Args: []string{"-si", "http://127.0.0.1:8080/hello"}, Comments: []string{"HTTP/1.1 401"}, HeadOne: true}, cmds[1])

	req, include, err := cmds[0].Request("http://127.0.0.1:9", map[string]string{"SECRET": "s3"})
	require.NoError(t, err)
	assert.False(t, include)
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, "http://127.0.0.1:9/oauth2/token", req.URL.String())
	id, secret, ok := req.BasicAuth()
	assert.True(t, ok)
	assert.Equal(t, "my-app", id)
	assert.Equal(t, "s3", secret)
	body, _ := io.ReadAll(req.Body)
	assert.Equal(t, "grant_type=password&username=john+doe", string(body))

	_, _, err = cmds[0].Request("http://127.0.0.1:9", nil)
	assert.ErrorContains(t, err, "nothing for [SECRET]")

	req, include, err = cmds[1].Request("http://x", nil)
	require.NoError(t, err)
	assert.True(t, include)
	assert.Equal(t, http.MethodGet, req.Method)

	_, err = Commands("```sh\ncurl -s http://a/ | grep x\n```\n")
	assert.ErrorContains(t, err, "unknown pipe")
}

func TestPlaceholders(t *testing.T) {
	vars := map[string]string{"access_token": "A", "refresh_token": "R"}
	cmds, err := Commands("```sh\ncurl -H \"Authorization: Bearer oat_…\" -d refresh_token=ort_… -d token=<access_token> http://h/p\n```\n")
	require.NoError(t, err)
	req, _, err := cmds[0].Request("http://x", vars)
	require.NoError(t, err)
	assert.Equal(t, "Bearer A", req.Header.Get("Authorization"))
	body, _ := io.ReadAll(req.Body)
	assert.Equal(t, "refresh_token=R&token=A", string(body))
}

// The shell expands no $NAME between single quotes: a guide command
// written so sends "$NAME" itself for a reader, so it is refused rather
// than expanded for the test.
func TestSingleQuotedVariableIsRefused(t *testing.T) {
	_, err := Commands("```sh\ncurl -s -H 'Authorization: Bearer $TOKEN' http://h/p\n```\n")
	assert.ErrorContains(t, err, "single quotes")
	cmds, err := Commands("```sh\ncurl -s -H \"Authorization: Bearer $TOKEN\" -d 'a=b c' http://h/p\n```\n")
	require.NoError(t, err)
	require.Len(t, cmds, 1)
}
