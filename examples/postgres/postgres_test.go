package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/internal/testclock"
)

// oauth2ctl builds cmd/oauth2ctl and returns a function that runs it
// against dbURL and returns its standard output.
func oauth2ctl(t *testing.T, dbURL string) func(args ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "oauth2ctl")
	build := exec.Command("go", "build", "-o", bin, "github.com/oauth2provider/oauth2provider/cmd/oauth2ctl")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/oauth2ctl:\n%s", out)
	return func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--store", dbURL}, args...)...)
		cmd.Env = append(os.Environ(), "OAUTH2_STORE=")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), "oauth2ctl %s: %s", strings.Join(args, " "), stderr.String())
		return stdout.String()
	}
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	UserID       string `json:"user_id"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
}

func postForm(t *testing.T, endpoint, clientID, secret string, form url.Values) (int, tokenResponse) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var tr tokenResponse
	if resp.ContentLength != 0 {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&tr))
	}
	return resp.StatusCode, tr
}

func getMe(t *testing.T, base, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/me", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	return resp.StatusCode
}

// TestPyramidSetup runs the set-up of the package comment on a fresh
// schema: oauth2ctl migrate and client create, adduser, then the password
// grant against the users table, revocation, disabling the client and
// the janitor.
func TestPyramidSetup(t *testing.T) {
	dbURL := storeurltest.Postgres(t)
	ctx := t.Context()

	ctl := oauth2ctl(t, dbURL)
	ctl("migrate")
	created := ctl("client", "create", "--id", "shop-web", "--scopes", "read,write")
	m := regexp.MustCompile(`(?m)^client_secret: (\S+)$`).FindStringSubmatch(created)
	require.NotNil(t, m, "oauth2ctl client create printed no secret")
	secret := m[1]

	var out bytes.Buffer
	require.NoError(t, addUser(ctx, dbURL, "johndoe", strings.NewReader("foobar42\n"), &out))
	assert.Regexp(t, `^user johndoe has ID \d+\n$`, out.String())

	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	clk := testclock.New(time.Now().UTC()) // shared by the store and the provider
	a, err := newApp(ctx, pool, options{insecure: true, issuer: "http://127.0.0.1", now: clk.Now})
	require.NoError(t, err)
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)

	// An older application's user, with a bcrypt hash.
	legacy, err := bcrypt.GenerateFromPassword([]byte("letmein99"), bcrypt.MinCost)
	require.NoError(t, err)
	legacyID, err := a.users.AddHash(ctx, "janedoe", string(legacy))
	require.NoError(t, err)

	var dummies atomic.Int32
	realDummy := dummyVerify
	dummyVerify = func(context.Context, string) error { dummies.Add(1); return nil }
	t.Cleanup(func() { dummyVerify = realDummy })

	tokenURL := srv.URL + "/oauth2/token"
	password := func(user, pass string) (int, tokenResponse) {
		return postForm(t, tokenURL, "shop-web", secret, url.Values{
			"grant_type": {"password"}, "username": {user}, "password": {pass}, "scope": {"read write"},
		})
	}

	t.Run("argon2id user gets tokens (RFC 6749 §4.3)", func(t *testing.T) {
		status, tr := password("johndoe", "foobar42")
		require.Equal(t, http.StatusOK, status, tr.Error)
		assert.NotEmpty(t, tr.UserID)
		assert.Equal(t, "read write", tr.Scope)
		assert.Equal(t, http.StatusOK, getMe(t, srv.URL, tr.AccessToken))
	})

	t.Run("bcrypt user logs in and is upgraded to argon2id", func(t *testing.T) {
		status, tr := password("janedoe", "letmein99")
		require.Equal(t, http.StatusOK, status, tr.Error)
		assert.Equal(t, legacyID, tr.UserID)
		var hash string
		require.NoError(t, pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE username = 'janedoe'`).Scan(&hash))
		assert.True(t, strings.HasPrefix(hash, "$argon2id$"), "hash is still %.4s…", hash)
		status, _ = password("janedoe", "letmein99")
		assert.Equal(t, http.StatusOK, status, "the upgraded hash verifies")
	})

	// bcrypt reads 72 bytes of a password: an application that hashed a
	// longer one (PHP's password_hash, older bcrypt libraries) stored the
	// hash of its first 72 bytes, and every password sharing them
	// verifies. One with a typo past byte 72 must not become the user's
	// password when the hash is upgraded to argon2id, which reads it all.
	t.Run("a long bcrypt password with a typo past byte 72 is not what the upgrade stores", func(t *testing.T) {
		long := strings.Repeat("correct horse battery staple ", 3) // 87 bytes
		truncated, err := bcrypt.GenerateFromPassword([]byte(long[:72]), bcrypt.MinCost)
		require.NoError(t, err)
		_, err = a.users.AddHash(ctx, "longpass", string(truncated))
		require.NoError(t, err)

		status, tr := password("longpass", long[:72]+"typo")
		require.Equal(t, http.StatusOK, status, tr.Error) // bcrypt's own answer
		status, tr = password("longpass", long)
		assert.Equal(t, http.StatusOK, status, "the user's own password no longer works: %s", tr.Error)
	})

	t.Run("wrong password and unknown user are the same invalid_grant (RFC 6749 §5.2)", func(t *testing.T) {
		before := dummies.Load()
		status, tr := password("johndoe", "wrong-password")
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, "invalid_grant", tr.Error)
		assert.Equal(t, before, dummies.Load(), "a known user needs no dummy hash")

		status, tr = password("nobody", "foobar42")
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, "invalid_grant", tr.Error)
		assert.Equal(t, before+1, dummies.Load(), "an unknown user costs one dummy verification")
	})

	t.Run("revocation ends the grant (RFC 7009)", func(t *testing.T) {
		status, tr := password("johndoe", "foobar42")
		require.Equal(t, http.StatusOK, status, tr.Error)
		status, _ = postForm(t, srv.URL+"/oauth2/revoke", "shop-web", secret, url.Values{"token": {tr.RefreshToken}})
		require.Equal(t, http.StatusOK, status)
		assert.Equal(t, http.StatusUnauthorized, getMe(t, srv.URL, tr.AccessToken))
	})

	t.Run("janitor deletes expired tokens", func(t *testing.T) {
		status, tr := password("johndoe", "foobar42")
		require.Equal(t, http.StatusOK, status, tr.Error)
		clk.Advance(31 * 24 * time.Hour) // past the refresh tokens' 30 days
		n, err := sweep(ctx, a.store)
		require.NoError(t, err)
		assert.Positive(t, n)
		var left int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM oauth2_tokens`).Scan(&left))
		assert.Zero(t, left)
		n, err = sweep(ctx, a.store)
		require.NoError(t, err)
		assert.Zero(t, n, "nothing left to sweep")
	})

	t.Run("oauth2ctl client disable ends the client's tokens", func(t *testing.T) {
		status, tr := password("johndoe", "foobar42")
		require.Equal(t, http.StatusOK, status, tr.Error)
		require.Equal(t, http.StatusOK, getMe(t, srv.URL, tr.AccessToken))
		ctl("client", "disable", "shop-web")
		assert.Equal(t, http.StatusUnauthorized, getMe(t, srv.URL, tr.AccessToken))
		status, _ = password("johndoe", "foobar42")
		assert.Equal(t, http.StatusUnauthorized, status)
	})
}

// TestAddUserRefusesEmptyPassword: adduser with nothing on stdin adds no one.
func TestAddUserRefusesEmptyPassword(t *testing.T) {
	err := addUser(context.Background(), "postgres://unused.invalid/db", "johndoe", strings.NewReader("\n"), &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "empty password")
}

// TestAddUserTwiceSaysTheUserExists: adduser of a username the table
// holds says so, not only the server's unique-constraint violation, and
// leaves the user's password as it was.
func TestAddUserTwiceSaysTheUserExists(t *testing.T) {
	dbURL := storeurltest.Postgres(t)
	ctx := context.Background()
	require.NoError(t, addUser(ctx, dbURL, "johndoe", strings.NewReader("foobar42\n"), io.Discard))
	err := addUser(ctx, dbURL, "johndoe", strings.NewReader("other-password\n"), io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `user "johndoe" already exists`)
	assert.NotContains(t, err.Error(), "other-password")
}
