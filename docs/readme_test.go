package docs_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the README's users table
	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/passhash"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's embedding example, verbatim (docs_test.go checks that).

type userDB struct{ db *sql.DB }

// CheckAuth returns the user's ID for a right password, and
// authcheck.ErrInvalidCredentials for an unknown user or a wrong password.
func (u userDB) CheckAuth(ctx context.Context, username, password string) (string, error) {
	var id, hash string
	err := u.db.QueryRowContext(ctx,
		`SELECT id, password_hash FROM users WHERE username = $1`, username).Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		// same time as a wrong password, and gives up as its check does
		if err := authcheck.DummyVerifyContext(ctx, password); err != nil {
			return "", err // ended request: 503, as for a known user
		}
		return "", authcheck.ErrInvalidCredentials
	}
	if err != nil {
		return "", err // the provider answers 503, never a token
	}
	// argon2id or bcrypt; gives up when the client goes away
	ok, err := authcheck.VerifyPasswordContext(ctx, hash, password)
	if err != nil {
		return "", err // ended request or unreadable hash: 503, not counted
	}
	if !ok {
		return "", authcheck.ErrInvalidCredentials
	}
	return id, nil
}

// newServer wires the provider over your users table and protects /api/.
func newServer(db *sql.DB, apiHandler http.Handler) (http.Handler, error) {
	store := memory.New(memory.Config{}) // or postgres.New(pool, …), redis.New(client, …)
	p, err := provider.New(provider.Config{
		Clients: store,
		Tokens:  store,
		Users:   userDB{db},
		Scopes:  []string{"read", "write"},
		Issuer:  "https://auth.example.com",
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /oauth2/token", p.TokenHandler())
	mux.Handle("/api/", policy.Bearer(p)(apiHandler))
	return mux, nil // serve it with http.ListenAndServeTLS
}

// The snippets of policies.md, compiled.
func identitySnippet(w http.ResponseWriter, r *http.Request) {
	id, ok := policy.IdentityFrom(r.Context())
	// id.UserID, id.ClientID, id.GrantID, id.Scopes, id.Method ("bearer" or "cookie")
	_, _ = id, ok
}

func policiesSnippet(p *provider.Provider, mux *http.ServeMux, listNotes, addNote, accountPage http.Handler) error {
	sessions, err := policy.NewSessions(p, policy.SessionConfig{Scopes: []string{"read", "write"}})
	if err != nil {
		return err
	}

	mux.Handle("POST /login", sessions.LoginHandler())
	mux.Handle("POST /logout", sessions.LogoutHandler())
	mux.Handle("GET /api/notes", policy.CookieOrBearer(sessions)(listNotes))
	mux.Handle("POST /api/notes", policy.Chain(policy.CookieOrBearer(sessions), policy.Require("write"))(addNote))
	mux.Handle("GET /account", policy.Cookie(sessions)(accountPage))
	return nil
}

var _ = policiesSnippet

// TestReadmeUserDB runs the README's AuthChecker against a real users table.
func TestReadmeUserDB(t *testing.T) {
	db, err := sql.Open("pgx", storeurltest.Postgres(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	_, err = db.ExecContext(ctx, `CREATE TABLE users (id text PRIMARY KEY, username text UNIQUE NOT NULL, password_hash text NOT NULL)`)
	require.NoError(t, err)
	hash, err := authcheck.HashPassword("foobar42")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `INSERT INTO users VALUES ('42', 'johndoe', $1)`, hash)
	require.NoError(t, err)

	users := userDB{db}
	id, err := users.CheckAuth(ctx, "johndoe", "foobar42")
	require.NoError(t, err)
	assert.Equal(t, "42", id)
	_, err = users.CheckAuth(ctx, "johndoe", "wrong")
	assert.ErrorIs(t, err, authcheck.ErrInvalidCredentials)
	_, err = users.CheckAuth(ctx, "nobody", "foobar42")
	assert.ErrorIs(t, err, authcheck.ErrInvalidCredentials)

	// A login whose request ends while its hash waits for an argon2id slot
	// is an outage (503), not a wrong password counted against the user.
	// So is an unknown user's: its dummy check gives up alike.
	release := passhash.HoldSlots()
	for _, name := range []string{"johndoe", "nobody"} {
		waiting, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err = users.CheckAuth(waiting, name, "foobar42")
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded, name)
		assert.NotErrorIs(t, err, authcheck.ErrInvalidCredentials, name)
	}
	release()

	// newServer's token endpoint refuses plain HTTP (TLS is required unless
	// the app opts out): the README's server is meant for ListenAndServeTLS.
	h, err := newServer(db, http.HandlerFunc(identitySnippet))
	require.NoError(t, err)
	form := url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}}
	req := httptest.NewRequest(http.MethodPost, "http://example.com/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "HTTPS is required")

	// Over HTTPS it still issues nothing until a client is registered, as
	// the README says after the code: the users table alone is not enough.
	req = httptest.NewRequest(http.MethodPost, "https://example.com/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("my-app", "a-secret")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Body.String(), `"error":"invalid_client"`)
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	assert.True(t, strings.Contains(strings.Join(strings.Fields(string(readme)), " "),
		"refuses every token request over HTTPS with `invalid_client`"),
		"the README must say that the embedding example needs a registered client")

	// A broken database is an outage, never invalid credentials.
	require.NoError(t, db.Close())
	_, err = users.CheckAuth(ctx, "johndoe", "foobar42")
	require.Error(t, err)
	assert.NotErrorIs(t, err, authcheck.ErrInvalidCredentials)
}

// TestPoliciesSnippet serves policies.md's routes: a user signed in with
// the session cookie reaches each route the snippet gives to cookies.
func TestPoliciesSnippet(t *testing.T) {
	store := memory.New(memory.Config{})
	var users authcheck.Static
	require.NoError(t, users.Add("johndoe", "foobar42", "user-1"))
	p, err := provider.New(provider.Config{
		Clients: store, Tokens: store, Users: &users,
		Scopes: []string{"read", "write"}, AllowInsecureHTTP: true,
	})
	require.NoError(t, err)
	reached := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(name)) })
	}
	mux := http.NewServeMux()
	require.NoError(t, policiesSnippet(p, mux, reached("list"), reached("add"), reached("page")))

	login := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("username=johndoe&password=foobar42"))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, login)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	cookies := rec.Result().Cookies()
	require.NotEmpty(t, cookies)

	for _, route := range []struct{ method, path, want string }{
		{http.MethodGet, "/api/notes", "list"},
		{http.MethodPost, "/api/notes", "add"},
		{http.MethodGet, "/account", "page"},
	} {
		req := httptest.NewRequest(route.method, route.path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusOK, rec.Code, "%s %s: %s", route.method, route.path, rec.Body.String())
		assert.Equal(t, route.want, rec.Body.String(), "%s %s", route.method, route.path)
	}
}
