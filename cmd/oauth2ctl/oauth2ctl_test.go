package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/storeurl"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// ctl runs oauth2ctl in-process, with nothing on stdin, and returns its
// exit status and output.
func ctl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return ctlIn(t, "", args...)
}

// ctlIn is ctl with stdin.
func ctlIn(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

var secretLine = regexp.MustCompile(`(?m)^client_secret: ([A-Za-z0-9_-]{43})$`)

// secretOf returns the secret printed in out.
func secretOf(t *testing.T, out string) string {
	t.Helper()
	m := secretLine.FindStringSubmatch(out)
	require.NotNil(t, m, "no secret printed in %q", out)
	return m[1]
}

// testProvider is a provider on the store URL, with user "alice" (ID
// "u-alice"), served over HTTP.
func testProvider(t *testing.T, storeURL string) (*provider.Provider, *httptest.Server) {
	t.Helper()
	s, err := storeurl.Open(context.Background(), storeURL, storeurl.Options{})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	var users authcheck.Static
	require.NoError(t, users.Add("alice", "correct horse", "u-alice"))
	p, err := provider.New(provider.Config{
		Clients: s.Clients, Tokens: s.Tokens, Users: &users,
		Scopes: []string{"read", "write"}, AllowInsecureHTTP: true,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(p.TokenHandler())
	t.Cleanup(srv.Close)
	return p, srv
}

// clientRevision returns the Revision of the client id in the store.
func clientRevision(t *testing.T, storeURL, id string) int64 {
	t.Helper()
	s, err := storeurl.Open(context.Background(), storeURL, storeurl.Options{})
	require.NoError(t, err)
	defer s.Close()
	c, err := s.Clients.GetClient(context.Background(), id)
	require.NoError(t, err)
	return c.Revision
}

// passwordGrant asks srv for a token for alice as client id/secret and
// returns the status and the access token.
func passwordGrant(t *testing.T, srv *httptest.Server, id, secret string) (int, string) {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"correct horse"}, "scope": {"read"}}
	req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.AccessToken
}

// valid reports whether p accepts the access token.
func valid(t *testing.T, p *provider.Provider, access string) bool {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	_, err := p.ValidateAccessToken(req, access)
	if err != nil {
		require.ErrorIs(t, err, provider.ErrInvalidToken, "only invalid_token, no outage")
		return false
	}
	return true
}

// The operator's whole session on each backend: migrate, create, list,
// rotate, revoke a user, disable.
func TestOperatorSession(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, store string) {
		t.Setenv(envStore, store)

		code, out, errOut := ctl(t, "migrate")
		require.Equal(t, exitOK, code, errOut)
		assert.NotEmpty(t, out)

		// create: the secret is printed once, on stdout.
		code, out, errOut = ctl(t, "client", "create", "--id", "app", "--scopes", "read,write", "--default-scopes", "read")
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, "client_id: app\n")
		secret := secretOf(t, out)
		assert.Contains(t, errOut, "only this once")

		code, _, errOut = ctl(t, "client", "create", "--id", "app")
		assert.Equal(t, exitFailure, code)
		assert.Contains(t, errOut, "already exists")

		// A random ID when --id is not given, with --store after the command.
		t.Setenv(envStore, "")
		code, out, errOut = ctl(t, "client", "create", "--grant-types", "client_credentials", "--store", store)
		require.Equal(t, exitOK, code, errOut)
		otherID := strings.TrimPrefix(strings.SplitN(out, "\n", 2)[0], "client_id: ")
		assert.Len(t, otherID, 16)
		t.Setenv(envStore, store)

		p, srv := testProvider(t, store)
		status, access := passwordGrant(t, srv, "app", secret)
		require.Equal(t, http.StatusOK, status)
		require.True(t, valid(t, p, access))

		// list: both clients, no secret and no hash.
		code, out, errOut = ctl(t, "client", "list")
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, "app")
		assert.Contains(t, out, otherID)
		assert.Contains(t, out, "read,write")
		assert.NotContains(t, out, secret)
		assert.NotContains(t, out, "sha256$")

		// rotate-secret: the old secret stops working, the new one works,
		// tokens already issued stay valid.
		code, out, errOut = ctl(t, "client", "rotate-secret", "app")
		require.Equal(t, exitOK, code, errOut)
		newSecret := secretOf(t, out)
		assert.NotEqual(t, secret, newSecret)
		status, _ = passwordGrant(t, srv, "app", secret)
		assert.Equal(t, http.StatusUnauthorized, status, "the old secret is refused")
		status, access2 := passwordGrant(t, srv, "app", newSecret)
		require.Equal(t, http.StatusOK, status)
		assert.True(t, valid(t, p, access))

		// revoke --user ends both of alice's grants.
		code, out, errOut = ctl(t, "revoke", "--user", "u-alice")
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, "revoked 2 grant(s)")
		assert.False(t, valid(t, p, access))
		assert.False(t, valid(t, p, access2))

		// disable: a token issued before is refused, and so is the client.
		status, access3 := passwordGrant(t, srv, "app", newSecret)
		require.Equal(t, http.StatusOK, status)
		require.True(t, valid(t, p, access3))
		code, out, errOut = ctl(t, "client", "disable", "app")
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, "revoked 1 grant(s)")
		assert.False(t, valid(t, p, access3), "a token issued before disable is refused")
		status, _ = passwordGrant(t, srv, "app", newSecret)
		assert.Equal(t, http.StatusUnauthorized, status, "a disabled client is refused")
		_, out, _ = ctl(t, "client", "list")
		assert.Regexp(t, `(?m)^app\s+confidential\s+disabled`, out)

		// enable: the client is taken again; what the disable revoked
		// stays revoked. Enabling an enabled client changes nothing.
		code, out, errOut = ctl(t, "client", "enable", "app")
		require.Equal(t, exitOK, code, errOut)
		assert.Equal(t, "client app enabled; the tokens its disable revoked stay revoked\n", out)
		assert.False(t, valid(t, p, access3), "a token the disable revoked stays revoked")
		status, access4 := passwordGrant(t, srv, "app", newSecret)
		require.Equal(t, http.StatusOK, status, "an enabled client is taken again")
		assert.True(t, valid(t, p, access4))
		_, out, _ = ctl(t, "client", "list")
		assert.Regexp(t, `(?m)^app\s+confidential\s+enabled`, out)
		rev := clientRevision(t, store, "app")
		code, out, errOut = ctl(t, "client", "enable", "app")
		require.Equal(t, exitOK, code, errOut)
		assert.Equal(t, "client app was not disabled; nothing changed\n", out)
		assert.Equal(t, rev, clientRevision(t, store, "app"), "nothing was written")
		assert.True(t, valid(t, p, access4))

		// revoke --client on a client with no grants ends nothing.
		code, out, errOut = ctl(t, "revoke", "--client", otherID)
		require.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, "revoked 0 grant(s)")

		for _, args := range [][]string{
			{"client", "disable", "nosuch"},
			{"client", "enable", "nosuch"},
			{"client", "rotate-secret", "nosuch"},
			{"client", "update", "nosuch", "--scopes", "read"},
		} {
			code, _, errOut = ctl(t, args...)
			assert.Equal(t, exitFailure, code, args)
			assert.Contains(t, errOut, "no client nosuch", args)
		}
	})
}

// A public client gets no secret: none is printed, and none is stored
// (a hash stored for it would be a secret nobody was given).
func TestPublicClientHasNoSecret(t *testing.T) {
	store := storeurltest.Redis(t)
	t.Setenv(envStore, store)
	code, out, errOut := ctl(t, "client", "create", "--id", "spa", "--public")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "client_id: spa\n", out)
	s, err := storeurl.Open(context.Background(), store, storeurl.Options{})
	require.NoError(t, err)
	defer s.Close()
	c, err := s.Clients.GetClient(context.Background(), "spa")
	require.NoError(t, err)
	assert.True(t, c.Public)
	assert.Empty(t, c.SecretHash, "no secret stored")
	code, _, errOut = ctl(t, "client", "rotate-secret", "spa")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "public")
}

func TestUsageErrorsExitWith2(t *testing.T) {
	t.Setenv(envStore, "redis://127.0.0.1:1/0") // never reached: usage is checked first
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"NoCommand", nil, "no command"},
		{"UnknownCommand", []string{"frobnicate"}, "unknown command"},
		{"UnknownClientCommand", []string{"client", "delete"}, "unknown command"},
		{"ClientWithoutCommand", []string{"client"}, "want create"},
		{"UnknownFlag", []string{"client", "list", "--bogus"}, "flag provided but not defined"},
		{"RevokeNeedsOneTarget", []string{"revoke"}, "exactly one"},
		{"RevokeNotBoth", []string{"revoke", "--user", "u", "--client", "c"}, "exactly one"},
		// The last of two would be revoked alone, and the first
		// user's or client's tokens would live on.
		{"RevokeUserTwice", []string{"revoke", "--user", "alice", "--user", "bob"}, "given twice"},
		{"RevokeClientTwice", []string{"revoke", "--client", "a", "--client=b"}, "given twice"},
		{"DisableNeedsID", []string{"client", "disable"}, "exactly one client ID"},
		{"DisableOneID", []string{"client", "disable", "a", "b"}, "exactly one client ID"},
		{"DisableEmptyID", []string{"client", "disable", ""}, "exactly one client ID"},
		{"EnableNeedsID", []string{"client", "enable"}, "exactly one client ID"},
		{"EnableOneID", []string{"client", "enable", "a", "b"}, "exactly one client ID"},
		{"RotateEmptyID", []string{"client", "rotate-secret", ""}, "exactly one client ID"},
		{"UnknownGrantType", []string{"client", "create", "--grant-types", "implicit"}, "unknown grant type"},
		{"EmptyGrantTypes", []string{"client", "create", "--grant-types", ", "}, "--grant-types is empty"},
		{"PublicClientCredentials", []string{"client", "create", "--public", "--grant-types", "client_credentials"}, "public client"},
		{"BadScope", []string{"client", "create", "--scopes", `a"b`}, "not a valid scope"},
		{"DefaultScopeOutsideScopes", []string{"client", "create", "--scopes", "read", "--default-scopes", "write"}, "not in --scopes"},
		// Checked as a scope itself, not only as one missing from --scopes.
		{"BadDefaultScope", []string{"client", "create", "--scopes", "read", "--default-scopes", `a"b`}, "not a valid scope"},
		// Without --scopes the client may ask only for the provider's
		// default scopes, which oauth2ctl cannot see: a default scope
		// outside them would be silently never granted.
		{"DefaultScopesWithoutScopes", []string{"client", "create", "--default-scopes", "admin"}, "--default-scopes needs --scopes"},
		{"BadID", []string{"client", "create", "--id", "a b"}, "--id"},
		// "client disable -abc" would read the ID as a flag.
		{"IDLikeAFlag", []string{"client", "create", "--id", "-abc"}, "--id must not begin with"},
		{"RelativeRedirect", []string{"client", "create", "--redirect-uri", "/cb"}, "absolute"},
		{"RedirectFragment", []string{"client", "create", "--redirect-uri", "https://a.example/cb#x"}, "fragment"},
		{"RedirectEmptyFragment", []string{"client", "create", "--redirect-uri", "https://a.example/cb#"}, "fragment"},
		// net/url takes a space or a quote in a path; no URI holds one.
		{"RedirectWithSpace", []string{"client", "create", "--redirect-uri", "https://a.example/a b"}, "--redirect-uri \"https://a.example/a b\": holds a character that a URI cannot (RFC 3986 §2): percent-encode it"},
		{"RedirectWithQuote", []string{"client", "create", "--redirect-uri", `https://a.example/a"b`}, "percent-encode it"},
		{"ScriptRedirect", []string{"client", "create", "--redirect-uri", "javascript:alert(document.domain)//"}, "redirect-uri"},
		{"DataRedirect", []string{"client", "create", "--redirect-uri", "data:text/html,<script>alert(1)</script>"}, "redirect-uri"},
		{"PlainHTTPRedirect", []string{"client", "create", "--redirect-uri", "http://shop.example/cb"}, "https"},
		{"HostlessRedirect", []string{"client", "create", "--redirect-uri", "https:/cb"}, "redirect-uri"},
		// RFC 8252 §8.4: a private-use scheme without a period is not a
		// reverse domain name any app could not also claim.
		{"PrivateSchemeWithoutPeriod", []string{"client", "create", "--redirect-uri", "myapp:/cb"}, "reverse domain name"},
		{"RedirectQueryHoldsState", []string{"client", "create", "--redirect-uri", "https://a.example/cb?state=x"}, "authorization response"},
		{"OutOfBandURN", []string{"client", "create", "--redirect-uri", "urn:ietf:wg:oauth:2.0:oob"}, "reverse domain name"},
		{"CodeNeedsRedirect", []string{"client", "create", "--grant-types", "authorization_code"}, "redirect-uri"},
		// A redirect URI serves only the code flow: given to a client
		// without authorization_code, it would be stored and never used,
		// and the operator would think the flow set up.
		{"RedirectWithoutCode", []string{"client", "create", "--redirect-uri", "https://a.example/cb"}, "--redirect-uri needs --grant-types with authorization_code"},
		// First-party only skips the consent page of the code flow.
		{"FirstPartyWithoutCode", []string{"client", "create", "--first-party"}, "--first-party needs --grant-types with authorization_code"},
		{"RedirectWithClientCredentials", []string{"client", "create", "--grant-types", "client_credentials", "--redirect-uri", "https://a.example/cb"}, "--redirect-uri needs --grant-types with authorization_code"},
		// Only the password and authorization_code grants issue a
		// refresh token: without one the client could never get a first.
		{"RefreshTokenAlone", []string{"client", "create", "--grant-types", "refresh_token"}, "refresh_token needs password or authorization_code"},
		{"RefreshTokenWithClientCredentials", []string{"client", "create", "--grant-types", "client_credentials,refresh_token"}, "refresh_token needs password or authorization_code"},
		{"UnsupportedStore", []string{"--store", "mysql://u:s3cret@h/db", "client", "list"}, "want a postgres://"},
		{"MigrateTakesNoArgs", []string{"migrate", "now"}, "unexpected argument"},
		// A store URL given without --store is a stray argument, which
		// the message names without its password.
		{"URLAsCommand", []string{"postgres://u:s3cret@db.internal/app", "client", "list"}, "unknown command"},
		{"URLAsClientCommand", []string{"client", "redis://:s3cret@h:6379/0", "list"}, "unknown command"},
		{"URLAfterMigrate", []string{"migrate", "postgres://u:s3cret@db.internal/app"}, "unexpected argument"},
		{"URLAfterList", []string{"client", "list", "redis://:s3cret@h:6379/0"}, "unexpected argument"},
		{"URLAfterCreate", []string{"client", "create", "rediss://u:s3cret@h:6379/0"}, "unexpected argument"},
		{"URLAfterRevoke", []string{"revoke", "--user", "u", "postgres://u:s3cret@db.internal/app?sslmode=require"}, "unexpected argument"},
		{"URLInQuery", []string{"migrate", "postgres://db.internal/app?password=s3cret"}, "unexpected argument"},
		// Flag values a message echoes: a store URL pasted into the
		// wrong flag comes back without its password, and a control
		// character escaped.
		{"URLAsGrantType", []string{"client", "create", "--grant-types", "postgres://u:s3cret@db.internal/app"}, "unknown grant type"},
		{"URLAsScope", []string{"client", "create", "--scopes", `redis://:s3cret@h:6379/"`}, "not a valid scope"},
		{"URLAsDefaultScope", []string{"client", "create", "--scopes", "read", "--default-scopes", "redis://:s3cret@h:6379/0"}, "not in --scopes"},
		{"RedirectWithPassword", []string{"client", "create", "--redirect-uri", "http://u:s3cret@shop.example/cb"}, "https"},
		{"ControlInStore", []string{"--store", "mysql://u:s3cret@h/\x1b[2K\r", "client", "list"}, "want a postgres://"},
		{"ControlInGrantType", []string{"client", "create", "--grant-types", "\x1b[2K\rimplicit"}, "unknown grant type"},
		// The flag package's own messages: an unknown flag's name and a
		// bad boolean's value come back escaped and without a password.
		{"ControlInUnknownFlag", []string{"client", "list", "--\x1b[2K\rx"}, "flag provided but not defined"},
		{"URLAsUnknownFlag", []string{"client", "list", "--postgres://u:s3cret@db.internal/app"}, "flag provided but not defined"},
		{"URLAsBoolValue", []string{"client", "create", "--public=postgres://u:s3cret@db.internal/app"}, "invalid boolean value"},
		{"ControlInGlobalFlag", []string{"--\x1b]0;title\a", "client", "list"}, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := ctl(t, tc.args...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, errOut, tc.msg)
			assert.NotContains(t, errOut, "s3cret")
			assert.NotContains(t, errOut, "\x1b")
			assert.NotContains(t, errOut, "\r")
			assert.Empty(t, out)
		})
	}
}

func TestNoStoreIsAUsageError(t *testing.T) {
	t.Setenv(envStore, "")
	for _, args := range [][]string{{"client", "list"}, {"client", "disable", "app"}, {"client", "enable", "app"}, {"client", "rotate-secret", "app"}, {"client", "update", "app", "--scopes", "read"}} {
		code, _, errOut := ctl(t, args...)
		assert.Equal(t, exitUsage, code, args)
		assert.Contains(t, errOut, "oauth2ctl: no store: give --store URL or set "+envStore+"\n", args)
	}
}

func TestUnreachableStoreExitsWith1(t *testing.T) {
	for _, args := range [][]string{{"client", "list"}, {"client", "disable", "app"}, {"client", "enable", "app"}, {"client", "rotate-secret", "app"}, {"client", "update", "app", "--scopes", "read"}} {
		code, _, errOut := ctl(t, append([]string{"--store", "redis://:s3cret@127.0.0.1:1/0"}, args...)...)
		assert.Equal(t, exitFailure, code, args)
		assert.Contains(t, errOut, "does not answer", args)
		assert.NotContains(t, errOut, "s3cret", args)
	}
}

// Help, on every command, never shows the store URL, which holds the
// store's password when it has one: neither from the environment nor from
// a --store given before --help.
func TestHelpOnEveryCommand(t *testing.T) {
	t.Setenv(envStore, "postgres://u:envs3cret@db.internal/app")
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"client", "--help"}, {"client", "help"},
		{"migrate", "--help"}, {"client", "create", "--help"}, {"client", "list", "-h"},
		{"client", "disable", "--help"}, {"client", "enable", "--help"}, {"client", "rotate-secret", "--help"}, {"client", "update", "--help"}, {"revoke", "--help"},
		{"client", "list", "--store", "redis://:flags3cret@127.0.0.1:1/0", "--help"},
	} {
		code, out, errOut := ctl(t, args...)
		assert.Equal(t, exitOK, code, args)
		assert.Contains(t, out, "Usage: oauth2ctl", args)
		assert.NotContains(t, out, "s3cret", args)
		assert.Empty(t, errOut, args)
	}
	// Each one-ID command shows its own usage.
	for _, cmd := range []string{"disable", "enable", "rotate-secret", "update"} {
		code, out, _ := ctl(t, "client", cmd, "--help")
		assert.Equal(t, exitOK, code, cmd)
		assert.True(t, strings.HasPrefix(out, "Usage: oauth2ctl client "+cmd+" ID"), out)
	}
}

// failingWriter is a stdout that cannot be written (a full disk, a closed
// pipe).
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// A secret that could not be shown is lost: the command must fail and
// say how to get a new one, not exit 0 as if the operator had it.
func TestSecretNotWrittenIsAFailure(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"client", "create", "--id", "lost"}, strings.NewReader(""), failingWriter{}, &errOut)
	assert.Equal(t, exitFailure, code, "create: %s", errOut.String())
	assert.Contains(t, errOut.String(), "rotate-secret lost")

	errOut.Reset()
	code = run(context.Background(), []string{"client", "rotate-secret", "lost"}, strings.NewReader(""), failingWriter{}, &errOut)
	assert.Equal(t, exitFailure, code, "rotate-secret: %s", errOut.String())
	assert.Contains(t, errOut.String(), "rotate-secret lost")

	// A public client's random ID is not lost ("client list" shows it),
	// but a script reading stdout must not go on without it.
	errOut.Reset()
	code = run(context.Background(), []string{"client", "create", "--public", "--id", "spa"}, strings.NewReader(""), failingWriter{}, &errOut)
	assert.Equal(t, exitFailure, code, "create --public: %s", errOut.String())
	assert.Contains(t, errOut.String(), "client spa was created, but writing its ID failed")
}

func TestRedirectSchemesAllowed(t *testing.T) {
	for _, u := range []string{"https://shop.example/cb", "http://127.0.0.1/cb", "http://[::1]:8000/cb", "http://localhost:3000/cb", "com.example.app:/oauth2redirect"} {
		p, err := url.Parse(u)
		require.NoError(t, err)
		assert.NoError(t, checkRedirectScheme(p), u)
	}
}

// A random client ID must be usable as the argument of the commands that
// take one: one that began with "-" (base64url has it, so 1 in 64 would)
// was taken for a flag by "client disable ID" and "client rotate-secret
// ID", a usage error unless the operator knew to write "--" before it.
func TestRandomIDIsNeverTakenForAFlag(t *testing.T) {
	for range 4096 {
		id, err := randomID()
		require.NoError(t, err)
		require.True(t, validID(id), id)
		require.False(t, strings.HasPrefix(id, "-"), "random ID %q reads as a flag", id)
		// base64url: no "+" or "/", which a client sending its ID in
		// HTTP Basic auth would have to form-encode ("+" reads as a space).
		require.Regexp(t, `^[A-Za-z0-9_-]{16}$`, id)
	}
}

// "revoke --client" of a client that does not exist (a typo in the ID of
// the client whose secret leaked) must fail, as the exit statuses say,
// not report "revoked 0 grant(s)" with status 0 while the real client's
// tokens live on.
func TestRevokeUnknownClientExitsWith1(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	code, out, errOut := ctl(t, "revoke", "--client", "shop-wbe")
	assert.Equal(t, exitFailure, code, out)
	assert.Contains(t, errOut, "no client shop-wbe")
	assert.Empty(t, out)

	code, _, errOut = ctl(t, "client", "create", "--id", "shop-web")
	require.Equal(t, exitOK, code, errOut)
	code, out, errOut = ctl(t, "revoke", "--client", "shop-web")
	assert.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "revoked 0 grant(s) of client shop-web\n", out)
}

// A list flag given twice adds to the list, as --redirect-uri does: the
// second --scopes used to replace the first silently, so "--scopes read
// --scopes write" made a client that could not ask for read. The first
// value still replaces the default (--grant-types).
func TestListFlagsGivenTwiceAdd(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	code, _, errOut := ctl(t, "client", "create", "--id", "twice",
		"--scopes", "read", "--scopes", "write,admin",
		"--default-scopes", "read", "--default-scopes", "write",
		"--grant-types", "password", "--grant-types", "client_credentials")
	require.Equal(t, exitOK, code, errOut)

	s, err := storeurl.Open(context.Background(), os.Getenv(envStore), storeurl.Options{})
	require.NoError(t, err)
	defer s.Close()
	c, err := s.Clients.GetClient(context.Background(), "twice")
	require.NoError(t, err)
	assert.Equal(t, []string{"read", "write", "admin"}, c.Scopes)
	assert.Equal(t, []string{"read", "write"}, c.DefaultScopes)
	assert.Equal(t, []string{"password", "client_credentials"}, c.GrantTypes, "the first --grant-types replaces the default")
}

// Against a database "oauth2ctl migrate" has not prepared, a command
// fails with Postgres's own error and says what to do about it; a
// schema that does not exist at all gets the same hint. A Redis store,
// which has no schema, never gets it.
func TestUnmigratedDatabaseSuggestsMigrate(t *testing.T) {
	const hint = `run oauth2ctl migrate`
	empty := storeurltest.Postgres(t)
	t.Setenv(envStore, empty)
	code, _, errOut := ctl(t, "client", "list")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "does not exist")
	assert.Contains(t, errOut, hint)
	assert.Equal(t, 1, strings.Count(errOut, "oauth2ctl migrate"), "said once: %s", errOut)

	t.Setenv(envStore, storeurltest.WithParam(empty, "search_path", "no_such_schema_x"))
	code, _, errOut = ctl(t, "client", "create")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, hint)
	assert.Equal(t, 1, strings.Count(errOut, "oauth2ctl migrate"), "said once: %s", errOut)

	t.Setenv(envStore, empty)
	code, _, errOut = ctl(t, "migrate")
	require.Equal(t, exitOK, code, errOut)
	code, _, errOut = ctl(t, "client", "list")
	assert.Equal(t, exitOK, code, errOut)

	t.Setenv(envStore, storeurltest.Redis(t))
	code, _, errOut = ctl(t, "revoke", "--client", "nobody")
	assert.Equal(t, exitFailure, code)
	assert.NotContains(t, errOut, hint)
}

// "oauth2ctl migrate" into a search_path whose schema does not exist
// fails (Postgres: "no schema has been selected to create in") and says
// to create the schema, not to run the migrate that just failed.
func TestMigrateIntoAMissingSchemaSaysCreateIt(t *testing.T) {
	t.Setenv(envStore, storeurltest.WithParam(storeurltest.Postgres(t), "search_path", "no_such_schema_x"))
	code, _, errOut := ctl(t, "migrate")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "3F000")
	assert.NotContains(t, errOut, `run oauth2ctl migrate`)
	assert.Equal(t, 1, strings.Count(errOut, "create schema"), "said once: %s", errOut)
}

// A store URL typed where an ID belongs (oauth2ctl client disable
// postgres://…) reaches the store as an ID and comes back in the
// message: without its password.
func TestIDMessagesHideAStoreURLsPassword(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	const typed = "postgres://app:Hunter2-SECRET@db.example/oauth"
	for _, args := range [][]string{
		{"client", "disable", typed},
		{"client", "rotate-secret", typed},
		{"client", "update", typed, "--scopes", "read"},
		{"revoke", "--client", typed},
		{"revoke", "--user", typed},
	} {
		code, out, errOut := ctl(t, args...)
		assert.NotEqual(t, exitUsage, code, args)
		assert.NotContains(t, out+errOut, "Hunter2-SECRET", args)
		assert.Contains(t, out+errOut, "db.example", args)
	}
}

// "client list" shows what the store holds, which the command did not
// write (a client created through the library, a tampered record): a
// control character in an ID or scope is shown quoted, never sent to the
// terminal, where an escape sequence or a carriage return could hide or
// forge a row.
func TestClientListQuotesControlCharacters(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	s, err := storeurl.Open(context.Background(), os.Getenv(envStore), storeurl.Options{})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Clients.CreateClient(context.Background(), &storage.Client{
		ID: "evil\x1b[2K\rweb", SecretHash: storage.HashGeneratedSecret("s"), GrantTypes: []string{"password"}, Scopes: []string{"read\nadmin\tx"},
		CreatedAt: time.Unix(1_700_000_000, 0)}))
	code, out, errOut := ctl(t, "client", "list")
	require.Equal(t, exitOK, code, errOut)
	assert.NotContains(t, out, "\x1b")
	assert.NotContains(t, out, "\r")
	assert.Equal(t, 2, strings.Count(out, "\n"), "a header and one row: %q", out)
	assert.Contains(t, out, `"evil\x1b[2K\rweb"`)
	assert.Contains(t, out, `"read\nadmin\tx"`)
}

// A client created through the library without a CreatedAt (as
// docs/getting-started.md once did) has no known creation time: "client
// list" shows "-", not 0001-01-01T00:00:00Z, as it does for an empty list.
func TestClientListUnknownCreationTime(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	s, err := storeurl.Open(context.Background(), os.Getenv(envStore), storeurl.Options{})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Clients.CreateClient(context.Background(), &storage.Client{
		ID: "my-app", SecretHash: storage.HashGeneratedSecret("s"), GrantTypes: []string{"password"}, Scopes: []string{"read"}}))
	code, out, errOut := ctl(t, "client", "list")
	require.Equal(t, exitOK, code, errOut)
	assert.NotContains(t, out, "0001-01-01")
	assert.Equal(t, "-", listCells(t, out, "CREATED")["my-app"], out)
}

// "migrate" says what it did: on an empty schema it migrated (and to
// which version), and only a second run finds the schema up to date. It
// said "schema is up to date" both times, so an operator running it on a
// new database could think it had done nothing.
func TestMigrateSaysWhatItDid(t *testing.T) {
	t.Setenv(envStore, storeurltest.Postgres(t))
	code, out, errOut := ctl(t, "migrate")
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `^migrated the schema from version 0 to version [1-9][0-9]*\n$`, out)

	code, out, errOut = ctl(t, "migrate")
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `^schema is up to date \(version [1-9][0-9]*\)\n$`, out)
}

// "client list" shows what client create stored: a public first-party
// client is "public,first-party", and its creation time is the time it
// was created, not "-" as for a client with no known creation time.
func TestClientListShowsTypeAndCreationTime(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	before := time.Now().UTC().Truncate(time.Second)
	code, _, errOut := ctl(t, "client", "create", "--id", "spa", "--public", "--first-party", "--grant-types", "authorization_code", "--redirect-uri", "https://spa.example/cb")
	require.Equal(t, exitOK, code, errOut)
	code, out, errOut := ctl(t, "client", "list")
	require.Equal(t, exitOK, code, errOut)
	m := regexp.MustCompile(`(?m)^spa +public,first-party +enabled +authorization_code +- +- +(\S+) +https://spa.example/cb$`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	created, err := time.Parse(time.RFC3339, m[1])
	require.NoError(t, err, out)
	assert.False(t, created.Before(before), "created %s, before %s", created, before)
	assert.WithinDuration(t, time.Now(), created, time.Minute)
}

// "revoke --client" ends the grants of that client, and only those: a
// token the client holds stops working, and the count says so.
func TestRevokeClientEndsItsGrants(t *testing.T) {
	store := storeurltest.Redis(t)
	t.Setenv(envStore, store)
	code, out, errOut := ctl(t, "client", "create", "--id", "leaky", "--scopes", "read")
	require.Equal(t, exitOK, code, errOut)
	secret := secretOf(t, out)
	p, srv := testProvider(t, store)
	status, access := passwordGrant(t, srv, "leaky", secret)
	require.Equal(t, http.StatusOK, status)
	require.True(t, valid(t, p, access))

	code, out, errOut = ctl(t, "revoke", "--client", "leaky")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "revoked 1 grant(s) of client leaky\n", out)
	assert.False(t, valid(t, p, access), "the client's token still works")
}

// A lone "--" ends the flags: whatever follows is an argument, even what
// looks like a flag, so "--help" there is a second ID, not a request for
// help (nor "--store URL" a switch to another store).
func TestDoubleDashEndsTheFlags(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	code, out, errOut := ctl(t, "client", "rotate-secret", "--", "-nosuch")
	assert.Equal(t, exitFailure, code, errOut)
	assert.Contains(t, errOut, "no client -nosuch")
	assert.Empty(t, out)

	code, out, errOut = ctl(t, "client", "disable", "--", "-nosuch", "--help")
	assert.Equal(t, exitUsage, code, out)
	assert.Contains(t, errOut, "exactly one client ID")
	assert.Empty(t, out)
}

// "migrate" on a schema that a later release migrated further (this
// binary is the older one: a rollback, a stale oauth2ctl on an
// operator's machine) leaves it alone and says so, with both versions.
// It said "schema is up to date", as if this binary's migrations were
// those of the schema.
func TestMigrateSaysWhenTheSchemaIsNewerThanThisBinary(t *testing.T) {
	store := storeurltest.Postgres(t)
	t.Setenv(envStore, store)
	code, _, errOut := ctl(t, "migrate")
	require.Equal(t, exitOK, code, errOut)
	s, err := storeurl.Open(context.Background(), store, storeurl.Options{})
	require.NoError(t, err)
	defer s.Close()
	_, latest, err := s.SchemaVersion(context.Background())
	require.NoError(t, err)
	conn, err := pgx.Connect(context.Background(), store)
	require.NoError(t, err)
	defer func() { _ = conn.Close(context.Background()) }()
	_, err = conn.Exec(context.Background(), `update `+postgres.VersionTable+` set version = $1`, latest+1) // one ahead: the bound
	require.NoError(t, err)

	code, out, errOut := ctl(t, "migrate")
	require.Equal(t, exitOK, code, errOut)
	assert.NotContains(t, out, "up to date")
	assert.Equal(t, fmt.Sprintf("schema version %d is newer than this binary's (version %d): left as it is\n", latest+1, latest), out)
}

// "migrate" on Redis, which keeps no schema, says there is nothing to do,
// not that a schema is up to date at version 0.
func TestMigrateOnRedisSaysThereIsNothingToDo(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	code, out, errOut := ctl(t, "migrate")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "nothing to migrate: redis keeps no schema\n", out)
}

// TestRefreshTokenWithAGrantThatIssuesOne checks that refresh_token is
// refused only when no grant of the client issues a refresh token.
func TestRefreshTokenWithAGrantThatIssuesOne(t *testing.T) {
	for _, gts := range [][]string{
		{"password", "refresh_token"},
		{"authorization_code", "refresh_token"},
		{"client_credentials", "password", "refresh_token"},
		{"client_credentials"},
	} {
		c := &storage.Client{GrantTypes: gts}
		if c.AllowsGrant(storage.GrantAuthorizationCode) {
			c.RedirectURIs = []string{"https://shop.example/cb"}
		}
		assert.NoError(t, validateClient("client create", c), gts)
	}
}
