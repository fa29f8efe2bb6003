package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// storeClients adds the clients to the store of $OAUTH2_STORE through the
// library, as an app would: oauth2ctl's own checks on IDs do not apply.
func storeClients(t *testing.T, clients ...*storage.Client) {
	t.Helper()
	s, err := storeurl.Open(context.Background(), os.Getenv(envStore), storeurl.Options{})
	require.NoError(t, err)
	defer s.Close()
	for _, c := range clients {
		require.NoError(t, s.Clients.CreateClient(context.Background(), c))
	}
}

// Every message and line that names a client or user ID, typed by the
// operator or read from the store, shows a control character escaped: an
// escape sequence, a carriage return or a bell would otherwise reach the
// terminal, where it can retitle the window, erase the line or forge
// another message.
func TestIDsWithControlCharactersAreEscaped(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	const evil = "evil\x1b[2K\rweb"       // confidential
	const evilSPA = "spa\x1b]0;owned\x07" // public
	const nosuch = "nosuch\x1b[2K\r"
	storeClients(t,
		&storage.Client{ID: evil, SecretHash: storage.HashGeneratedSecret("s"), GrantTypes: []string{storage.GrantClientCredentials}},
		&storage.Client{ID: evilSPA, Public: true, GrantTypes: []string{storage.GrantPassword}},
	)
	check := func(args []string, out string) {
		t.Helper()
		for _, c := range []string{"\x1b", "\r", "\x07"} {
			assert.NotContains(t, out, c, "%q", args)
		}
		assert.Contains(t, out, `\x1b`, "%q: the ID is shown, escaped", args)
	}
	for _, args := range [][]string{
		{"client", "rotate-secret", evil},                // client_id: ...
		{"client", "rotate-secret", evilSPA},             // client ... is public
		{"revoke", "--client", evil},                     // revoked ... of client ...
		{"revoke", "--user", evil},                       // revoked ... of user ...
		{"client", "disable", evil},                      // client ... disabled
		{"client", "disable", nosuch},                    // no client ...
		{"client", "rotate-secret", nosuch},              // no client ...
		{"client", "update", nosuch, "--scopes", "read"}, // no client ...
		{"client", "update", evil, "--scopes", "read"},   // client ... updated
		{"revoke", "--client", nosuch},                   // no client ...; nothing revoked
		{"\x1b[2Kfrob"},                                  // unknown command
		{"client", "\x1b[2Kfrob"},                        // unknown command
		{"migrate", "\x1b[2K"},                           // unexpected argument
	} {
		_, out, errOut := ctl(t, args...)
		check(args, out+errOut)
	}

	// A secret that could not be written: the message says which client.
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"client", "rotate-secret", evil}, strings.NewReader(""), failingWriter{}, &errOut)
	assert.Equal(t, exitFailure, code)
	check([]string{"rotate-secret, stdout failing"}, errOut.String())
}

// A store URL with its password where an ID belongs (a client created
// with --id postgres://…, or through the library) comes back in every
// message that names the client without the password. The lines that
// give the client ID as data (client_id:, client list) show the ID as
// it is.
func TestStoredIDsThatLookLikeURLsHideThePassword(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	const id = "postgres://app:Hunter2-SECRET@db.example/oauth"
	const spa = "redis://:Hunter2-SECRET@cache.example:6379/0"
	storeClients(t,
		&storage.Client{ID: id, SecretHash: storage.HashGeneratedSecret("s"), GrantTypes: []string{storage.GrantClientCredentials}},
		&storage.Client{ID: spa, Public: true, GrantTypes: []string{storage.GrantPassword}},
	)
	for _, tc := range []struct {
		args []string
		host string
	}{
		{[]string{"client", "create", "--id", id}, "db.example"},    // already exists
		{[]string{"client", "rotate-secret", spa}, "cache.example"}, // is public
		{[]string{"revoke", "--client", id}, "db.example"},          // revoked ... of client
		{[]string{"client", "disable", id}, "db.example"},           // disabled
	} {
		_, out, errOut := ctl(t, tc.args...)
		assert.NotContains(t, out+errOut, "Hunter2-SECRET", tc.args)
		assert.Contains(t, out+errOut, tc.host, tc.args)
	}

	// A secret or an ID that could not be written: the error names the
	// client.
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"client", "rotate-secret", id}, strings.NewReader(""), failingWriter{}, &errOut)
	assert.Equal(t, exitFailure, code)
	assert.NotContains(t, errOut.String(), "Hunter2-SECRET")
	assert.Contains(t, errOut.String(), "db.example")

	errOut.Reset()
	code = run(context.Background(), []string{"client", "create", "--public", "--id", "postgres://u:Hunter2-SECRET@new.example/x"}, strings.NewReader(""), failingWriter{}, &errOut)
	assert.Equal(t, exitFailure, code)
	assert.NotContains(t, errOut.String(), "Hunter2-SECRET")
	assert.Contains(t, errOut.String(), "new.example")
}

// A rotation given up on after repeated conflicts names the client as
// the other messages do.
func TestRotateSecret_GivingUpShowsTheIDEscaped(t *testing.T) {
	ctx := context.Background()
	const id = "postgres://app:Hunter2-SECRET@db.example/\x1b[2K"
	m := memory.New(memory.Config{})
	require.NoError(t, m.CreateClient(ctx, &storage.Client{ID: id, SecretHash: storage.HashGeneratedSecret("old"), GrantTypes: []string{storage.GrantClientCredentials}}))
	rc := &racingClients{ClientStore: m, always: true, compete: func(ctx context.Context, s storage.ClientStore) error {
		c, err := s.GetClient(ctx, id)
		if err != nil {
			return err
		}
		c.Scopes = append(c.Scopes, "x")
		return s.UpdateClient(ctx, c)
	}}
	err := setSecretHash(ctx, rc, id, storage.HashGeneratedSecret("new"))
	require.ErrorIs(t, err, storage.ErrConflict)
	assert.NotContains(t, err.Error(), "Hunter2-SECRET")
	assert.NotContains(t, err.Error(), "\x1b")
	assert.True(t, strings.Contains(err.Error(), "db.example"), err.Error())
}

// A URL-looking argument with a control character, shown with %q, is
// escaped once: the operator reads \x1b, not \\x1b.
func TestRedacted_EscapesOnce(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--store", "memory", "client", "list", "postgres://u:Hunter2-SECRET@db.example/\x1b[2K"}, strings.NewReader(""), &out, &errOut)
	assert.Equal(t, exitUsage, code)
	assert.NotContains(t, errOut.String(), "Hunter2-SECRET")
	assert.NotContains(t, errOut.String(), "\x1b")
	assert.Contains(t, errOut.String(), `"postgres://u:xxxxx@db.example/\x1b[2K"`)
	assert.NotContains(t, errOut.String(), `\\x1b`)

	shownID := shownArg("postgres://u:pw@db.example/\x1b[2K")
	assert.Equal(t, `"postgres://u:xxxxx@db.example/\x1b[2K"`, shownID)
}
