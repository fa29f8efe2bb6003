package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/storage"
)

// A client moved from another server keeps the ID and secret its apps
// already hold: --secret-stdin stores the secret read from stdin, as a
// slow hash (nobody can vouch for how it was drawn), prints neither the
// secret nor its hash, and the client then authenticates with it and
// with nothing else.
func TestCreateWithAnExistingSecret(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, store string) {
		t.Setenv(envStore, store)
		code, _, errOut := ctl(t, "migrate")
		require.Equal(t, exitOK, code, errOut)

		const old = "s3cr3t from the old server"
		code, out, errOut := ctlIn(t, old+"\n", "client", "create", "--id", "legacy-app", "--scopes", "read", "--secret-stdin")
		require.Equal(t, exitOK, code, errOut)
		assert.Equal(t, "client_id: legacy-app\n", out, "the ID alone: the operator has the secret")
		assert.NotContains(t, errOut, old)
		assert.Contains(t, errOut, "rotate-secret legacy-app", "says to replace it when the apps can take a new one")

		s, err := storeurl.Open(context.Background(), store, storeurl.Options{})
		require.NoError(t, err)
		defer s.Close()
		c, err := s.Clients.GetClient(context.Background(), "legacy-app")
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(c.SecretHash, "$argon2id$"), "a slow hash: %q", c.SecretHash)
		assert.False(t, storage.IsGeneratedSecretHash(c.SecretHash), "failed attempts are throttled")

		p, srv := testProvider(t, store)
		status, access := passwordGrant(t, srv, "legacy-app", old)
		require.Equal(t, http.StatusOK, status)
		assert.True(t, valid(t, p, access))
		status, _ = passwordGrant(t, srv, "legacy-app", old+"\n")
		assert.Equal(t, http.StatusUnauthorized, status, "the newline that ended the line is not part of the secret")
		status, _ = passwordGrant(t, srv, "legacy-app", "s3cr3t")
		assert.Equal(t, http.StatusUnauthorized, status)
	})
}

// The last line may end with CRLF, or with nothing at all.
func TestSecretStdinLineEndings(t *testing.T) {
	store := storeurltest.Redis(t)
	t.Setenv(envStore, store)
	for id, in := range map[string]string{"crlf": "pw-one\r\n", "bare": "pw-one"} {
		code, _, errOut := ctlIn(t, in, "client", "create", "--id", id, "--secret-stdin")
		require.Equal(t, exitOK, code, errOut)
	}
	s, err := storeurl.Open(context.Background(), store, storeurl.Options{})
	require.NoError(t, err)
	defer s.Close()
	for _, id := range []string{"crlf", "bare"} {
		c, err := s.Clients.GetClient(context.Background(), id)
		require.NoError(t, err)
		assert.True(t, c.VerifySecret("pw-one"), id)
	}
}

// What --secret-stdin refuses, before the store is reached: each a usage
// error that says what is wrong and never echoes the secret.
func TestSecretStdinRefusals(t *testing.T) {
	t.Setenv(envStore, "redis://127.0.0.1:1/0") // never reached
	for name, tc := range map[string]struct {
		stdin string
		args  []string
		want  string
	}{
		"no ID":          {"pw-Hunter2\n", nil, "--secret-stdin needs --id"},
		"public":         {"pw-Hunter2\n", []string{"--id", "x", "--public"}, "a public client has no secret"},
		"empty":          {"", []string{"--id", "x"}, "no secret on stdin"},
		"empty line":     {"\n", []string{"--id", "x"}, "no secret on stdin"},
		"two lines":      {"pw-Hunter2\nmore\n", []string{"--id", "x"}, "one line"},
		"control":        {"pw-\x00Hunter2\n", []string{"--id", "x"}, "printable ASCII"},
		"non-ASCII":      {"pw-Hünter2\n", []string{"--id", "x"}, "printable ASCII"},
		"leading space":  {" pw-Hunter2\n", []string{"--id", "x"}, "space"},
		"trailing space": {"pw-Hunter2 \n", []string{"--id", "x"}, "space"},
		"too long":       {strings.Repeat("a", 513) + "\n", []string{"--id", "x"}, "at most 512"},
		// The bounds of VSCHAR (%x20-7E): the characters just outside.
		"unit separator": {"pw-\x1fHunter2\n", []string{"--id", "x"}, "printable ASCII"},
		"DEL":            {"pw-\x7fHunter2\n", []string{"--id", "x"}, "printable ASCII"},
		// A second line after the longest secret is still read, and
		// refused: reading no further than the secret and its line
		// ending would take it as the one line.
		"two lines at the longest": {strings.Repeat("a", 512) + "\r\nmore\n", []string{"--id", "x"}, "one line"},
		"LF then a line":           {strings.Repeat("a", 512) + "\nmore\n", []string{"--id", "x"}, "one line"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"client", "create", "--secret-stdin"}, tc.args...)
			code, out, errOut := ctlIn(t, tc.stdin, args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tc.want)
			assert.NotContains(t, errOut, "Hunter2", "the secret is never echoed")
		})
	}
}
