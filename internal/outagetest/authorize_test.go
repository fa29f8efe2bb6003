package outagetest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/storeurl"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// azApp is a provider whose authorization endpoint reads the user from
// policy's session cookie with Sessions.SignedInUser, and /login.
type azApp struct {
	srv    *httptest.Server
	client *http.Client // follows no redirect
}

// newAzApp opens storeURL for the tokens (and sessions) and, unless
// clientsInMemory, for the clients too; the public first-party client
// "spa" redirects to https://spa.example/cb.
func newAzApp(t *testing.T, storeURL string, clientsInMemory bool) *azApp {
	t.Helper()
	ctx := context.Background()
	s, err := storeurl.Open(ctx, storeURL, storeurl.Options{Timeout: storeTimeout})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	require.NoError(t, s.Migrate(ctx))
	clients := s.Clients
	if clientsInMemory {
		clients = memory.New(memory.Config{})
	}
	require.NoError(t, clients.CreateClient(ctx, &storage.Client{
		ID: "spa", Public: true, FirstParty: true, CreatedAt: time.Now(),
		GrantTypes: []string{storage.GrantAuthorizationCode}, Scopes: []string{"read"},
		RedirectURIs: []string{"https://spa.example/cb"},
	}))
	var users authcheck.Static
	require.NoError(t, users.Add("johndoe", "foobar42", "1"))
	p, err := provider.New(provider.Config{
		Clients: clients, Tokens: s.Tokens, Users: &users,
		Scopes: []string{"read"}, AllowInsecureHTTP: true,
	})
	require.NoError(t, err)
	sessions, err := policy.NewSessions(p, policy.SessionConfig{})
	require.NoError(t, err)
	az, err := p.AuthorizeHandler(provider.AuthorizeConfig{SignedInUser: sessions.SignedInUser, LoginURL: "/login"})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/oauth2/authorize", az)
	mux.Handle("POST /login", sessions.LoginHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := *srv.Client()
	c.Timeout = 20 * time.Second // a hang fails the test, not the run
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &azApp{srv: srv, client: &c}
}

// login signs johndoe in and returns the session cookie.
func (a *azApp) login(t *testing.T) *http.Cookie {
	t.Helper()
	form := url.Values{"username": {"johndoe"}, "password": {"foobar42"}}
	resp, err := a.client.PostForm(a.srv.URL+"/login", form)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	return cookies[0]
}

// azParams is a valid authorization request of spa.
var azParams = url.Values{
	"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {"https://spa.example/cb"},
	"scope": {"read"}, "state": {"xyz"}, "code_challenge_method": {"S256"},
	"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
}

// azAnswer is an answer of the authorization endpoint.
type azAnswer struct {
	status int
	header http.Header
	body   string
	took   time.Duration
}

// authorize sends the authorization request with the session cookie.
func (a *azApp) authorize(t *testing.T, session *http.Cookie) azAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, a.srv.URL+"/oauth2/authorize?"+azParams.Encode(), nil)
	require.NoError(t, err)
	req.AddCookie(session)
	start := time.Now()
	resp, err := a.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return azAnswer{status: resp.StatusCode, header: resp.Header, body: string(body), took: time.Since(start)}
}

// assertCode checks that the signed-in user got a code.
func assertCode(t *testing.T, ans azAnswer) {
	t.Helper()
	require.Equal(t, http.StatusFound, ans.status, ans.body)
	loc, err := url.Parse(ans.header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "spa.example", loc.Host)
	assert.NotEmpty(t, loc.Query().Get("code"))
	assert.Empty(t, loc.Query().Get("error"))
}

// recoverCode waits (boundedly) until the endpoint issues codes again.
func recoverCode(t *testing.T, a *azApp, session *http.Cookie) {
	t.Helper()
	var ans azAnswer
	for deadline := time.Now().Add(10 * time.Second); ; {
		ans = a.authorize(t, session)
		if ans.status == http.StatusFound && !strings.Contains(ans.header.Get("Location"), "error=") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	assertCode(t, ans)
}

// Sessions in Redis, clients elsewhere: when Redis is down, the client and
// redirect URI are trusted and the signed-in user is told of the outage
// at the client, not sent to the login page; the session outlives it.
func TestRedisSessionOutageAtAuthorize(t *testing.T) {
	rs := newRedisServer(t)
	rs.Start(t)
	a := newAzApp(t, rs.URL(), true)
	session := a.login(t)
	assertCode(t, a.authorize(t, session))

	rs.Stop(t)
	ans := a.authorize(t, session)
	assert.Equal(t, http.StatusFound, ans.status, ans.body)
	assert.Equal(t, "https://spa.example/cb?error=temporarily_unavailable&error_description=the+service+is+temporarily+unavailable%2C+try+again+later&state=xyz",
		ans.header.Get("Location"))
	assert.Equal(t, "no-store", ans.header.Get("Cache-Control"))
	assert.Empty(t, ans.body)
	assert.Less(t, ans.took, outageBound, "answered in %v", ans.took)

	rs.Start(t) // the append-only file keeps the session
	recoverCode(t, a, session)
}

// Clients and sessions in one Postgres: when it is down, the client cannot
// be read, so the redirect URI is not trusted: the 503 error page, never a
// redirect (and never the login page).
func TestPostgresOutageAtAuthorize(t *testing.T) {
	pg := newPostgresServer(t)
	pg.Start(t)
	a := newAzApp(t, pg.URL(), false)
	session := a.login(t)
	assertCode(t, a.authorize(t, session))

	pg.Stop(t)
	ans := a.authorize(t, session)
	assert.Equal(t, http.StatusServiceUnavailable, ans.status, ans.body)
	assert.Empty(t, ans.header.Get("Location"))
	assert.Equal(t, "1", ans.header.Get("Retry-After"))
	assert.Equal(t, "text/html; charset=utf-8", ans.header.Get("Content-Type"))
	assert.Contains(t, ans.body, `<code id="code">temporarily_unavailable</code>`)
	assert.Contains(t, ans.body, `<p id="description">the service is temporarily unavailable, try again later</p>`)
	assert.NotContains(t, ans.body, "connect", "the cause is not shown")
	assert.Less(t, ans.took, outageBound, "answered in %v", ans.took)

	pg.Start(t)
	recoverCode(t, a, session)
}
