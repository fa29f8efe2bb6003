package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/clientmod"
	"github.com/oauth2provider/oauth2provider/internal/storeurl"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/storage"
)

// storedClient reads the client id back from the store at storeURL.
func storedClient(t *testing.T, storeURL, id string) *storage.Client {
	t.Helper()
	s, err := storeurl.Open(context.Background(), storeURL, storeurl.Options{})
	require.NoError(t, err)
	defer s.Close()
	c, err := s.Clients.GetClient(context.Background(), id)
	require.NoError(t, err)
	return c
}

// Each flag of "client update" changes its field and nothing else: the
// stored client, read back, differs from the one before by that field
// and one revision, its secret hash, creation time and status
// untouched; the secret still works; the output names the field with
// its old and new values as "client list" shows them, and never the
// secret or its hash. Several --redirect-uri replace the whole list.
func TestClientUpdate_EachFlagChangesItsFieldOnly(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, store string) {
		t.Setenv(envStore, store)
		code, _, errOut := ctl(t, "migrate")
		require.Equal(t, exitOK, code, errOut)
		code, out, errOut := ctl(t, "client", "create", "--id", "web",
			"--grant-types", "password,authorization_code,refresh_token",
			"--redirect-uri", "https://a.example/cb", "--redirect-uri", "https://a.example/cb2",
			"--scopes", "read,write", "--default-scopes", "read")
		require.Equal(t, exitOK, code, errOut)
		secret := secretOf(t, out)
		created := storedClient(t, store, "web")
		require.NotEmpty(t, created.SecretHash)

		for _, tc := range []struct {
			name   string
			args   []string
			change func(c *storage.Client)
			out    string
		}{
			{"RedirectURIReplacesTheList", []string{"--redirect-uri", "https://b.example/cb"},
				func(c *storage.Client) { c.RedirectURIs = []string{"https://b.example/cb"} },
				"  redirect URIs: https://a.example/cb,https://a.example/cb2 -> https://b.example/cb\n"},
			{"RedirectURIsTogetherReplaceTheList", []string{"--redirect-uri", "https://c.example/cb", "--redirect-uri", "com.example.app:/cb"},
				func(c *storage.Client) { c.RedirectURIs = []string{"https://c.example/cb", "com.example.app:/cb"} },
				"  redirect URIs: https://b.example/cb -> https://c.example/cb,com.example.app:/cb\n"},
			{"Scopes", []string{"--scopes", "read,write,admin"},
				func(c *storage.Client) { c.Scopes = []string{"read", "write", "admin"} },
				"  scopes: read,write -> read,write,admin\n"},
			{"DefaultScopes", []string{"--default-scopes", "read", "--default-scopes", "write"},
				func(c *storage.Client) { c.DefaultScopes = []string{"read", "write"} },
				"  default scopes: read -> read,write\n"},
			{"DefaultScopesEmptied", []string{"--default-scopes", ""},
				func(c *storage.Client) { c.DefaultScopes = nil },
				"  default scopes: read,write -> -\n"},
			{"GrantTypes", []string{"--grant-types", "password,authorization_code"},
				func(c *storage.Client) { c.GrantTypes = []string{"password", "authorization_code"} },
				"  grant types: password,authorization_code,refresh_token -> password,authorization_code\n"},
			{"FirstParty", []string{"--first-party"},
				func(c *storage.Client) { c.FirstParty = true },
				"  first-party: no -> yes\n"},
			{"NotFirstParty", []string{"--first-party=false"},
				func(c *storage.Client) { c.FirstParty = false },
				"  first-party: yes -> no\n"},
			{"SeveralAtOnce", []string{"--scopes", "read", "--default-scopes", "read", "--grant-types", "password,refresh_token", "--redirect-uri", ""},
				func(c *storage.Client) {
					c.Scopes, c.DefaultScopes = []string{"read"}, []string{"read"}
					c.GrantTypes, c.RedirectURIs = []string{"password", "refresh_token"}, nil
				},
				"  grant types: password,authorization_code -> password,refresh_token\n" +
					"  scopes: read,write,admin -> read\n" +
					"  default scopes: - -> read\n" +
					"  redirect URIs: https://c.example/cb,com.example.app:/cb -> -\n"},
		} {
			before := storedClient(t, store, "web")
			code, out, errOut := ctl(t, append([]string{"client", "update", "web"}, tc.args...)...)
			require.Equal(t, exitOK, code, "%s: %s", tc.name, errOut)
			assert.Equal(t, "client web updated\n"+tc.out, out, tc.name)
			assert.Empty(t, errOut, tc.name)
			assert.NotContains(t, out, secret, tc.name)
			assert.NotContains(t, out, created.SecretHash, tc.name)

			want := *before
			tc.change(&want)
			want.Revision++
			after := storedClient(t, store, "web")
			assert.Equal(t, &want, after, tc.name)
			assert.Equal(t, created.SecretHash, after.SecretHash, tc.name)
			assert.True(t, created.CreatedAt.Equal(after.CreatedAt), tc.name)
			assert.False(t, after.Public || after.Disabled, tc.name)
		}

		// The same settings again write nothing: no new revision, which
		// would send a concurrent writer into a needless conflict.
		rev := clientRevision(t, store, "web")
		code, out, errOut = ctl(t, "client", "update", "web", "--scopes", "read", "--grant-types", "password,refresh_token")
		require.Equal(t, exitOK, code, errOut)
		assert.Equal(t, "client web already has these settings; nothing changed\n", out)
		assert.Equal(t, rev, clientRevision(t, store, "web"), "nothing was written")

		// The secret made at create still authenticates the client.
		_, srv := testProvider(t, store)
		status, _ := passwordGrant(t, srv, "web", secret)
		assert.Equal(t, http.StatusOK, status)
	})
}

// The refusals of "client create", one per rule of validateClient,
// each given as flags to a client created with none (or --public only).
var updateRefusals = []struct {
	name   string
	public bool
	flags  []string
}{
	{"EmptyGrantTypes", false, []string{"--grant-types", ", "}},
	{"UnknownGrantType", false, []string{"--grant-types", "implicit"}},
	{"RefreshTokenAlone", false, []string{"--grant-types", "refresh_token"}},
	{"RefreshTokenWithClientCredentials", false, []string{"--grant-types", "client_credentials,refresh_token"}},
	{"PublicClientCredentials", true, []string{"--grant-types", "client_credentials"}},
	{"BadScope", false, []string{"--scopes", `a"b`}},
	{"BadDefaultScope", false, []string{"--scopes", "read", "--default-scopes", `a"b`}},
	{"DefaultScopesWithoutScopes", false, []string{"--default-scopes", "admin"}},
	{"DefaultScopeOutsideScopes", false, []string{"--scopes", "read", "--default-scopes", "write"}},
	{"RedirectWithSpace", false, []string{"--grant-types", "authorization_code", "--redirect-uri", "https://a.example/a b"}},
	{"RedirectPercentNotEncoding", false, []string{"--grant-types", "authorization_code", "--redirect-uri", "https://a.example/cb?x=100%"}},
	{"RelativeRedirect", false, []string{"--grant-types", "authorization_code", "--redirect-uri", "/cb"}},
	{"RedirectFragment", false, []string{"--grant-types", "authorization_code", "--redirect-uri", "https://a.example/cb#x"}},
	{"PlainHTTPRedirect", false, []string{"--grant-types", "authorization_code", "--redirect-uri", "http://shop.example/cb"}},
	{"ScriptRedirect", false, []string{"--grant-types", "authorization_code", "--redirect-uri", "javascript:alert(1)//"}},
	{"PrivateSchemeWithoutPeriod", false, []string{"--grant-types", "authorization_code", "--redirect-uri", "myapp:/cb"}},
	{"RedirectQueryHoldsState", false, []string{"--grant-types", "authorization_code", "--redirect-uri", "https://a.example/cb?state=x"}},
	{"CodeNeedsRedirect", false, []string{"--grant-types", "authorization_code"}},
	{"RedirectWithoutCode", false, []string{"--redirect-uri", "https://a.example/cb"}},
	{"FirstPartyWithoutCode", false, []string{"--first-party"}},
}

// Every refusal of "client create" refuses the same client made by
// "client update", with the same message naming "client update" and
// exit status 2, and the stored client stays as it was.
func TestClientUpdate_RefusesWhatCreateRefuses(t *testing.T) {
	store := storeurltest.Redis(t)
	t.Setenv(envStore, store)
	code, _, errOut := ctl(t, "client", "create", "--id", "plain")
	require.Equal(t, exitOK, code, errOut)
	code, _, errOut = ctl(t, "client", "create", "--id", "spa", "--public")
	require.Equal(t, exitOK, code, errOut)
	before := map[string]*storage.Client{"plain": storedClient(t, store, "plain"), "spa": storedClient(t, store, "spa")}

	for i, tc := range updateRefusals {
		t.Run(tc.name, func(t *testing.T) {
			id, create := "plain", []string{"client", "create", "--id", fmt.Sprintf("new%d", i)}
			if tc.public {
				id, create = "spa", append(create, "--public")
			}
			code, out, createErr := ctl(t, append(create, tc.flags...)...)
			require.Equal(t, exitUsage, code, "create: %s", out)
			require.Contains(t, createErr, "oauth2ctl: client create: ")

			code, out, errOut := ctl(t, append([]string{"client", "update", id}, tc.flags...)...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, out)
			assert.Equal(t, strings.Replace(createErr, "client create: ", "client update: ", 1), errOut)
			assert.Equal(t, before[id], storedClient(t, store, id), "the refused update was written")
		})
	}
}

// A refusal may come from a field the flags leave as stored: the
// resulting client, not the flags, must pass. Leaving the
// authorization_code grant keeps the redirect URIs, which --redirect-uri
// "" then removes; a client whose stored redirect URI no URI holds (one
// "client create" took before it refused them) is refused any update
// until that URI is replaced, as create refuses it.
func TestClientUpdate_TheResultingClientMustPass(t *testing.T) {
	store := storeurltest.Redis(t)
	t.Setenv(envStore, store)
	code, _, errOut := ctl(t, "client", "create", "--id", "code", "--grant-types", "authorization_code,refresh_token", "--redirect-uri", "https://a.example/cb")
	require.Equal(t, exitOK, code, errOut)

	code, _, errOut = ctl(t, "client", "update", "code", "--grant-types", "password,refresh_token")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "oauth2ctl: client update: --redirect-uri needs --grant-types with authorization_code")
	code, _, errOut = ctl(t, "client", "update", "code", "--grant-types", "password,refresh_token", "--redirect-uri", "")
	require.Equal(t, exitOK, code, errOut)
	assert.Nil(t, storedClient(t, store, "code").RedirectURIs)
	code, _, errOut = ctl(t, "client", "update", "code", "--grant-types", "authorization_code")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "oauth2ctl: client update: authorization_code needs at least one --redirect-uri")

	const raw = "https://a.example/b\u00fccher cb"
	storeClients(t, &storage.Client{ID: "old", Public: true, GrantTypes: []string{storage.GrantAuthorizationCode},
		RedirectURIs: []string{raw, "https://a.example/ok"}})
	before := storedClient(t, store, "old")
	code, out, errOut := ctl(t, "client", "update", "old", "--scopes", "read")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "client update: --redirect-uri \"https://a.example/b\u00fccher cb\": holds a character that a URI cannot (RFC 3986 §2): percent-encode it")
	assert.Equal(t, before, storedClient(t, store, "old"))

	code, out, errOut = ctl(t, "client", "update", "old", "--redirect-uri", "https://a.example/b%C3%BCcher%20cb", "--redirect-uri", "https://a.example/ok")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "client old updated\n  redirect URIs: \"https://a.example/b\u00fccher cb\",https://a.example/ok -> https://a.example/b%C3%BCcher%20cb,https://a.example/ok\n", out)
	after := storedClient(t, store, "old")
	assert.Equal(t, []string{"https://a.example/b%C3%BCcher%20cb", "https://a.example/ok"}, after.RedirectURIs)
	assert.True(t, after.Public)
	assert.Empty(t, after.SecretHash)
}

// An unknown client is a failure (exit status 1) that names it, and
// nothing is printed on stdout, on every backend.
func TestClientUpdate_UnknownClient(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, store string) {
		t.Setenv(envStore, store)
		code, _, errOut := ctl(t, "migrate")
		require.Equal(t, exitOK, code, errOut)
		code, out, errOut := ctl(t, "client", "update", "nosuch", "--scopes", "read")
		assert.Equal(t, exitFailure, code)
		assert.Equal(t, "oauth2ctl: no client nosuch\n", errOut)
		assert.Empty(t, out)
	})
}

// Updates of different fields at once, from several processes, all
// land: each is made at the revision it read, and read again after a
// conflict, so none undoes another.
func TestClientUpdate_ConcurrentUpdatesAllLand(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, store string) {
		t.Setenv(envStore, store)
		code, _, errOut := ctl(t, "migrate")
		require.Equal(t, exitOK, code, errOut)
		code, _, errOut = ctl(t, "client", "create", "--id", "app", "--grant-types", "authorization_code", "--redirect-uri", "https://a.example/cb")
		require.Equal(t, exitOK, code, errOut)
		updates := [][]string{
			{"--scopes", "read,write"},
			{"--first-party"},
			{"--redirect-uri", "https://b.example/cb"},
			{"--scopes", "read,write", "--default-scopes", "read"},
		}
		var wg sync.WaitGroup
		codes := make([]int, len(updates))
		errs := make([]string, len(updates))
		for i, u := range updates {
			wg.Go(func() {
				var out, errOut bytes.Buffer
				codes[i] = run(context.Background(), append([]string{"client", "update", "app"}, u...), strings.NewReader(""), &out, &errOut)
				errs[i] = errOut.String()
			})
		}
		wg.Wait()
		for i := range updates {
			assert.Equal(t, exitOK, codes[i], errs[i])
		}
		c := storedClient(t, store, "app")
		assert.Equal(t, []string{"read", "write"}, c.Scopes)
		assert.Equal(t, []string{"read"}, c.DefaultScopes)
		assert.True(t, c.FirstParty)
		assert.Equal(t, []string{"https://b.example/cb"}, c.RedirectURIs)
	})
}

// A disable that lands between the update's read and its write stays:
// the update conflicts, reads the client again and changes that.
func TestClientUpdate_RacingDisableStays(t *testing.T) {
	m, rc := racingStore(t, func(c *storage.Client) { c.Disabled = true })
	changes, err := updateClient(context.Background(), rc, "app", func(c *storage.Client) { c.Scopes = []string{"read"} })
	require.NoError(t, err)
	assert.Equal(t, []fieldChange{{"scopes", "-", "read"}}, changes)
	assert.Equal(t, 2, rc.updates, "one conflict, one retry")
	c, err := m.GetClient(context.Background(), "app")
	require.NoError(t, err)
	assert.True(t, c.Disabled, "the disable is not undone")
	assert.Equal(t, []string{"read"}, c.Scopes)
	assert.True(t, c.VerifySecret("old"), "the secret is kept")
	assert.Equal(t, int64(3), c.Revision, "created, disabled, updated")
}

// A client that changes before every write is given up on after a few
// tries with a clear error; nothing of the update is written, and the
// competing writes are all kept.
func TestClientUpdate_GivesUpAfterRepeatedConflicts(t *testing.T) {
	m, rc := racingStore(t, func(c *storage.Client) { c.Disabled = !c.Disabled })
	rc.always = true
	_, err := updateClient(context.Background(), rc, "app", func(c *storage.Client) { c.Scopes = []string{"read"} })
	require.ErrorIs(t, err, storage.ErrConflict)
	assert.Contains(t, err.Error(), "client app kept changing while it was updated; nothing changed, try again")
	assert.Equal(t, clientmod.Tries, rc.updates, "bounded tries")
	c, getErr := m.GetClient(context.Background(), "app")
	require.NoError(t, getErr)
	assert.Nil(t, c.Scopes, "the update was written")
	assert.Equal(t, int64(1+clientmod.Tries), c.Revision, "each competing write kept")
}

// A write whose outcome is unknown says it may have been made, and that
// the same update can run again; a refusal of the store's own check of
// a stored secret hash says how to mend it, without the hash.
func TestClientUpdate_StoreErrors(t *testing.T) {
	m, _ := racingStore(t, func(*storage.Client) {})
	_, err := updateClient(context.Background(), lostAnswerClients{m}, "app", func(c *storage.Client) { c.Scopes = []string{"read"} })
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "may have been written")
	assert.Contains(t, err.Error(), "run the same update again")

	_, err = updateClient(context.Background(), failingGet{m}, "app", func(c *storage.Client) { c.Scopes = []string{"read"} })
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), "may have been written")

	_, err = updateClient(context.Background(), badHashClients{m}, "app", func(c *storage.Client) { c.Scopes = []string{"write"} })
	require.ErrorIs(t, err, storage.ErrInvalidSecretHash)
	assert.Contains(t, err.Error(), `client update: nothing changed`)
	assert.Contains(t, err.Error(), `"oauth2ctl client rotate-secret app"`)
	assert.NotContains(t, err.Error(), "plaintext-secret")
}

// badHashClients reads its clients with a SecretHash that is the secret
// itself, as a client stored before stores checked it may hold.
type badHashClients struct{ storage.ClientStore }

func (b badHashClients) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	c, err := b.ClientStore.GetClient(ctx, id)
	if err == nil {
		c.SecretHash = "plaintext-secret"
	}
	return c, err
}

// The usage errors of "client update" (exit status 2) are checked before
// the store is opened.
func TestClientUpdate_UsageErrors(t *testing.T) {
	t.Setenv(envStore, "redis://127.0.0.1:1/0") // never reached
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"app"}, "oauth2ctl: client update: nothing to change: give --redirect-uri, --grant-types, --scopes, --default-scopes, --first-party\n"},
		{[]string{"app", "--store", "redis://127.0.0.1:1/1"}, "nothing to change"},
		{[]string{"--scopes", "read"}, "oauth2ctl: client update: want exactly one client ID\n"},
		{[]string{"a", "b", "--scopes", "read"}, "want exactly one client ID"},
		{[]string{"", "--scopes", "read"}, "want exactly one client ID"},
		{[]string{"app", "--public"}, "flag provided but not defined: -public"},
		{[]string{"app", "--secret-stdin"}, "flag provided but not defined: -secret-stdin"},
		{[]string{"app", "--id", "other"}, "flag provided but not defined: -id"},
		{[]string{"app", "--redirect-uri", "", "--redirect-uri", "https://a.example/cb"}, `--redirect-uri "" (no redirect URIs) with another --redirect-uri`},
	} {
		code, out, errOut := ctl(t, append([]string{"client", "update"}, tc.args...)...)
		assert.Equal(t, exitUsage, code, tc.args)
		assert.Contains(t, errOut, tc.msg, tc.args)
		assert.True(t, strings.HasSuffix(errOut, "Run \"oauth2ctl --help\" for usage.\n"), errOut)
		assert.Empty(t, out, tc.args)
	}
}

// "client update --help" prints its usage and every flag it takes.
func TestClientUpdate_Help(t *testing.T) {
	t.Setenv(envStore, "")
	code, out, errOut := ctl(t, "client", "update", "--help")
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, errOut)
	help, flags, ok := strings.Cut(out, "\nFlags:\n")
	require.True(t, ok, out)
	assert.True(t, strings.HasPrefix(help, "Usage: oauth2ctl client update ID [flags]\n"), help)
	for _, f := range append(slices.Clone(updateFlags), "store") {
		assert.Regexp(t, `(?m)^  -`+regexp.QuoteMeta(f)+`( |$)`, flags, f)
	}
	assert.NotContains(t, flags, "-public")

	code, out, _ = ctl(t, "--help")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "client update ID [flags]")
}

// The exit statuses of "client update" as a process's: 0 for an update
// and for --help, 1 for a client that does not exist, 2 for no flag.
func TestClientUpdate_BinaryExitCodes(t *testing.T) {
	env := []string{envStore + "=" + storeurltest.Redis(t)}
	code, _, errOut := runBinary(t, env, "client", "create", "--id", "app")
	require.Equal(t, 0, code, errOut)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"client", "update", "app", "--scopes", "read"}, 0},
		{[]string{"client", "update", "--help"}, 0},
		{[]string{"client", "update", "nosuch", "--scopes", "read"}, 1},
		{[]string{"client", "update", "app"}, 2},
		{[]string{"client", "update", "app", "--grant-types", "implicit"}, 2},
	} {
		code, _, errOut := runBinary(t, env, tc.args...)
		assert.Equal(t, tc.code, code, "%v: %s", tc.args, errOut)
	}
}
