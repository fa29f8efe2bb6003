package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
)

// A command's --help lists its flags, with their defaults, after its
// help text: "client create --help" is where an operator learns that
// --grant-types defaults to password,refresh_token.
func TestCommandHelpListsItsFlags(t *testing.T) {
	t.Setenv(envStore, "")
	for _, tc := range []struct {
		args  []string
		flags []string
	}{
		{[]string{"client", "create", "--help"}, []string{"-grant-types", "(default password,refresh_token)", "-redirect-uri", "-public", "-store"}},
		{[]string{"revoke", "--help"}, []string{"-user", "-client", "-store"}},
		{[]string{"migrate", "-h"}, []string{"-store"}},
	} {
		code, out, errOut := ctl(t, tc.args...)
		require.Equal(t, exitOK, code, errOut)
		help, flags, ok := strings.Cut(out, "\nFlags:\n")
		require.True(t, ok, "no Flags section: %q", out)
		assert.Contains(t, help, "Usage: oauth2ctl", tc.args)
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
