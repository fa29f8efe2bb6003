package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
)

// A command's --help prints its own help text, then lists its flags, with their defaults, after its
// help text: "client create --help" is where an operator learns that
// --grant-types defaults to password,refresh_token.
func TestCommandHelpListsItsFlags(t *testing.T) {
	t.Setenv(envStore, "")
	for _, tc := range []struct {
		args  []string
		usage string
		flags []string
	}{
		{[]string{"client", "create", "--help"}, "Usage: oauth2ctl client create [flags]\n", []string{"-grant-types", "(default password,refresh_token)", "-redirect-uri", "-public", "-store"}},
		{[]string{"revoke", "--help"}, "Usage: oauth2ctl revoke --user ID", []string{"-user", "-client", "-store"}},
		{[]string{"migrate", "-h"}, "Usage: oauth2ctl migrate [--store URL]\n", []string{"-store"}},
	} {
		code, out, errOut := ctl(t, tc.args...)
		require.Equal(t, exitOK, code, errOut)
		help, flags, ok := strings.Cut(out, "\nFlags:\n")
		require.True(t, ok, "no Flags section: %q", out)
		assert.True(t, strings.HasPrefix(help, tc.usage), "%v: the command's own help: %q", tc.args, help)
		for _, f := range tc.flags {
			assert.Contains(t, flags, f, tc.args)
		}
	}
}

// Without --grant-types a client gets the password and refresh_token
// grants, as the help says: a client made as docs/operations.md shows
// ("client create --id shop-web --scopes read,write") can refresh.
func TestClientCreateDefaultGrantTypes(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	code, _, errOut := ctl(t, "client", "create", "--id", "shop-web", "--scopes", "read,write")
	require.Equal(t, exitOK, code, errOut)
	s, err := storeurl.Open(context.Background(), os.Getenv(envStore), storeurl.Options{})
	require.NoError(t, err)
	defer s.Close()
	c, err := s.Clients.GetClient(context.Background(), "shop-web")
	require.NoError(t, err)
	assert.Equal(t, []string{"password", "refresh_token"}, c.GrantTypes)
}

// A usage error (exit status 2) says where the usage is; a failure
// (exit status 1), which no other command line would mend, does not.
func TestUsageErrorPointsToHelp(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	code, _, errOut := ctl(t, "client", "disable")
	require.Equal(t, exitUsage, code, errOut)
	assert.Equal(t, "oauth2ctl: client disable: want exactly one client ID\nRun \"oauth2ctl --help\" for usage.\n", errOut)

	code, _, errOut = ctl(t, "client", "list", "--bogus")
	require.Equal(t, exitUsage, code, errOut)
	assert.True(t, strings.HasSuffix(errOut, "\nRun \"oauth2ctl --help\" for usage.\n"), errOut)

	code, _, errOut = ctl(t, "revoke", "--client", "nosuch")
	require.Equal(t, exitFailure, code, errOut)
	assert.NotContains(t, errOut, "--help")
}

// A store that fails a revocation, or the look-up of a client that
// "revoke --client" revoked nothing of (to tell a typo from a client
// without grants), makes a failure, not "revoked 0 grant(s)" with
// status 0.
func TestRevokeStoreFailureIsAFailure(t *testing.T) {
	store := storeurltest.Postgres(t)
	t.Setenv(envStore, store)
	code, _, errOut := ctl(t, "migrate")
	require.Equal(t, exitOK, code, errOut)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, store)
	require.NoError(t, err)
	defer func() { _ = conn.Close(ctx) }()
	// The grants stay readable; the clients do not.
	_, err = conn.Exec(ctx, "alter table oauth2_clients rename to oauth2_clients_gone")
	require.NoError(t, err)

	code, out, errOut := ctl(t, "revoke", "--client", "shop-web")
	assert.Equal(t, exitFailure, code, out)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "oauth2_clients")

	_, err = conn.Exec(ctx, "alter table oauth2_grants rename to oauth2_grants_gone")
	require.NoError(t, err)
	code, out, errOut = ctl(t, "revoke", "--user", "u-alice")
	assert.Equal(t, exitFailure, code, out)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "oauth2_grants")
}

// "client list" shows creation times in UTC, whatever zone the store
// reads them back in (pgx: the machine's local time).
func TestCreatedAtIsUTC(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("UTC+5", 5*3600))
	assert.Equal(t, "2024-01-01T22:04:05Z", createdAt(at))
}

// A --store that is not a URL ("user:password@host/db", the scheme
// forgotten) is a usage error whose message does not echo it: it may
// hold a password all the same.
func TestStoreNotAURLHidesItsPassword(t *testing.T) {
	for _, store := range []string{"u:s3cret@db.internal/app", "postgres:u:s3cret@db.internal/app"} {
		code, out, errOut := ctl(t, "--store", store, "client", "list")
		assert.Equal(t, exitUsage, code, errOut)
		assert.Contains(t, errOut, "want a postgres://", store)
		assert.NotContains(t, errOut, "s3cret", store)
		assert.Empty(t, out)
	}
}

// "client disable" says how many grants it revoked: none for a client
// that has none.
func TestClientDisableCountsNoGrants(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	code, _, errOut := ctl(t, "client", "create", "--id", "idle")
	require.Equal(t, exitOK, code, errOut)
	code, out, errOut := ctl(t, "client", "disable", "idle")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "client idle disabled; revoked 0 grant(s)\n", out)
}

// A list that could not be written (a full disk) is a failure, not a
// truncated list with status 0.
func TestClientListNotWrittenIsAFailure(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"client", "list"}, strings.NewReader(""), failingWriter{}, &errOut)
	assert.Equal(t, exitFailure, code, errOut.String())
	assert.Contains(t, errOut.String(), "no space left on device")
}

// The secret is printed exactly once, on stdout, with the ID and nothing
// else; stderr, which logs keep, never holds it.
func TestSecretPrintedExactlyOnce(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	for _, args := range [][]string{
		{"client", "create", "--id", "once"},
		{"client", "rotate-secret", "once"},
	} {
		code, out, errOut := ctl(t, args...)
		require.Equal(t, exitOK, code, errOut)
		secret := secretOf(t, out)
		assert.Equal(t, "client_id: once\nclient_secret: "+secret+"\n", out, args)
		assert.Equal(t, "The secret is shown only this once: the store keeps only its hash.\n", errOut, args)
	}
}

// A store URL that oauth2ctl cannot use is named by where it came from:
// $OAUTH2_STORE when the command line gave no --store. The message said
// "--store" either way, sending an operator who had typed none to look
// for one.
func TestUnusableStoreNamesItsSource(t *testing.T) {
	t.Setenv(envStore, "mysql://u:s3cret@h/db")
	code, _, errOut := ctl(t, "client", "list")
	assert.Equal(t, exitUsage, code, errOut)
	assert.Contains(t, errOut, "$"+envStore+" mysql://u:xxxxx@h/db: want a postgres://")
	assert.NotContains(t, errOut, "--store mysql")

	code, _, errOut = ctl(t, "client", "list", "--store", "mysql://u:s3cret@h/other")
	assert.Equal(t, exitUsage, code, errOut)
	assert.Contains(t, errOut, "--store mysql://u:xxxxx@h/other: want a postgres://")
}

// The message for a store URL of another scheme lists every scheme
// oauth2ctl takes, postgresql:// and rediss+cluster:// among them.
func TestUnusableStoreListsEveryScheme(t *testing.T) {
	code, _, errOut := ctl(t, "client", "list", "--store", "mysql://h/db")
	assert.Equal(t, exitUsage, code, errOut)
	for _, scheme := range []string{"postgres://", "postgresql://", "redis://", "rediss://", "redis+cluster://", "rediss+cluster://"} {
		assert.Contains(t, errOut, " "+scheme, "the message names %s", scheme)
	}
}

// oauth2ctl --help names every scheme too: a reader of the help alone
// should not think postgresql:// or rediss+cluster:// unsupported.
func TestHelpListsEveryScheme(t *testing.T) {
	code, out, errOut := ctl(t, "--help")
	assert.Equal(t, exitOK, code, errOut)
	help := strings.Join(strings.Fields(out+errOut), " ")
	for _, scheme := range []string{"postgres://", "postgresql://", "redis://", "rediss://", "redis+cluster://", "rediss+cluster://"} {
		assert.Contains(t, help, " "+scheme, "the help names %s", scheme)
	}
}

// Each command's help reads in an 80-column terminal: its text is
// wrapped by hand, and a line left long wraps mid-word there.
func TestHelpTextFitsEightyColumns(t *testing.T) {
	for name, help := range map[string]string{
		"oauth2ctl": mainUsage, "migrate": migrateHelp, "revoke": revokeHelp,
		"client create": clientCreateHelp, "client list": clientListHelp,
		"client disable": clientDisableHelp, "client enable": clientEnableHelp,
		"client rotate-secret": clientRotateHelp,
	} {
		for i, line := range strings.Split(help, "\n") {
			assert.LessOrEqual(t, utf8.RuneCountInString(line), 80, "%s help, line %d: %s", name, i+1, line)
		}
	}
}

// A store URL that oauth2ctl cannot use is shown in its message as IDs
// are: quoted when it holds a space, so the reader sees where it ends,
// with a control character escaped once (\x1b, not \\x1b, which the
// message showed for a URL with both) and without its password.
func TestUnusableStoreShownQuotedAndEscapedOnce(t *testing.T) {
	t.Setenv(envStore, "")
	for store, want := range map[string]string{
		"mysql://h/a b":             `--store "mysql://h/a b": want a postgres://`,
		"mysql://u:s3cret@h/\x1b a": `--store "mysql://u:xxxxx@h/\x1b a": want a postgres://`,
		"mysql://u:s3cret@h/\x1b":   `--store "mysql://u:xxxxx@h/\x1b": want a postgres://`,
		"u:s3cret@h/db":             `--store "(not a URL)": want a postgres://`,
	} {
		code, out, errOut := ctl(t, "--store", store, "client", "list")
		assert.Equal(t, exitUsage, code, errOut)
		assert.Empty(t, out)
		assert.Contains(t, errOut, want, "%q", store)
		assert.NotContains(t, errOut, `\\`, "%q", store)
		assert.NotContains(t, errOut, "s3cret", "%q", store)
	}
}
