package provider_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
)

// errSessionsDown is the session store failing; its text must never reach
// the browser.
var errSessionsDown = errors.New("sessions: dial tcp 10.1.2.3:6379: connection refused")

// sessionEnv is an authorization endpoint whose SignedInUser reads the
// test cookie: no cookie is nobody, the user "down" is an outage of the
// session store. calls counts the calls of SignedInUser.
type sessionEnv struct {
	*azEnv
	calls atomic.Int32
}

func newSessionEnv(t *testing.T, issuer string) *sessionEnv {
	t.Helper()
	se := &sessionEnv{}
	se.azEnv = newAuthzEnv(t, func(c *provider.Config) { c.Issuer = issuer }, func(c *provider.AuthorizeConfig) {
		c.CurrentUser = nil
		c.SignedInUser = func(r *http.Request) (string, error) {
			se.calls.Add(1)
			ck, err := r.Cookie(userCookie)
			switch {
			case err != nil:
				return "", nil
			case ck.Value == "down":
				return "", errSessionsDown
			}
			return ck.Value, nil
		}
	})
	return se
}

// unavailableQuery is the query of the redirect that reports an outage
// once the redirect URI is trusted (RFC 6749 §4.1.2.1).
func unavailableQuery(iss string) url.Values {
	q := url.Values{
		"error":             {"temporarily_unavailable"},
		"error_description": {"the service is temporarily unavailable, try again later"},
		"state":             {"st-123"},
	}
	if iss != "" {
		q.Set("iss", iss)
	}
	return q
}

// assertUnavailableRedirect checks the exact redirect of an outage to the
// client's redirect URI base: status, Location and its query, headers and
// an empty body that tells nothing of the cause.
func assertUnavailableRedirect(t *testing.T, w *httptest.ResponseRecorder, status int, base, iss string) {
	t.Helper()
	resp := w.Result()
	require.Equal(t, status, resp.StatusCode)
	loc := resp.Header.Get("Location")
	assert.Equal(t, base+"?"+unavailableQuery(iss).Encode(), loc)
	u, err := url.Parse(loc)
	require.NoError(t, err)
	assert.Equal(t, unavailableQuery(iss), u.Query())
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "no-cache", resp.Header.Get("Pragma"))
	assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	assert.Empty(t, resp.Header.Get("Set-Cookie"))
	assert.Empty(t, w.Body.String(), "a redirect has no body")
	assert.NotContains(t, loc, "10.1.2.3", "the cause never reaches the browser")
}

// When SignedInUser cannot tell who is signed in, the valid request is
// answered as an outage back at the client, not with the login page.
func TestAuthorizeSessionOutageRedirectsUnavailable(t *testing.T) {
	const iss = "https://auth.example.com"
	const spaCB = "https://spa.example/cb"
	e := newSessionEnv(t, iss)

	t.Run("GET: 302 with state and iss", func(t *testing.T) {
		w := e.get(spaParams(), "down")
		assertUnavailableRedirect(t, w, http.StatusFound, spaCB, iss)
	})
	t.Run("first-party client: no code either", func(t *testing.T) {
		w := e.get(spaParams("client_id", "first", "redirect_uri", "https://first.example/cb"), "down")
		assertUnavailableRedirect(t, w, http.StatusFound, "https://first.example/cb", iss)
	})
	t.Run("POST request: 303", func(t *testing.T) {
		w := e.authorize(azReq{method: http.MethodPost, form: spaParams(), user: "down"})
		assertUnavailableRedirect(t, w, http.StatusSeeOther, spaCB, iss)
	})
	t.Run("consent decision: 303", func(t *testing.T) {
		fields := consentFields(t, e.get(spaParams(), "user-1"))
		w := e.decide(fields, "down", "allow")
		assertUnavailableRedirect(t, w, http.StatusSeeOther, spaCB, iss)
	})
	t.Run("without an issuer, no iss", func(t *testing.T) {
		e := newSessionEnv(t, "")
		w := e.get(spaParams(), "down")
		assertUnavailableRedirect(t, w, http.StatusFound, spaCB, "")
	})
	t.Run("no state, none echoed", func(t *testing.T) {
		w := e.get(spaParams("state", ""), "down")
		q := unavailableQuery(iss)
		q.Del("state")
		assert.Equal(t, http.StatusFound, w.Code)
		assert.Equal(t, spaCB+"?"+q.Encode(), w.Header().Get("Location"))
	})
}

// Before the client and redirect URI are trusted, the session is not read:
// a bad request is the error page it always was, and an outage of the
// client store is the 503 error page, never a redirect.
func TestAuthorizeSessionOutageBeforeRedirectURIIsTrusted(t *testing.T) {
	e := newSessionEnv(t, "https://auth.example.com")

	t.Run("unregistered redirect_uri: 400 page, session not read", func(t *testing.T) {
		w := e.get(spaParams("redirect_uri", "https://evil.example/cb"), "down")
		assertErrorPage(t, w, http.StatusBadRequest, "invalid_request")
		assert.Empty(t, w.Header().Get("Retry-After"))
		assert.Zero(t, e.calls.Load())
	})
	t.Run("client store down too: 503 page", func(t *testing.T) {
		e.store.setFail(errors.New("clients: db down"))
		defer e.store.setFail(nil)
		w := e.get(spaParams(), "down")
		assertErrorPage(t, w, http.StatusServiceUnavailable, "temporarily_unavailable")
		assert.Equal(t, "1", w.Header().Get("Retry-After"))
		assert.Contains(t, w.Body.String(), `<p id="description">the service is temporarily unavailable, try again later</p>`)
		assert.NotContains(t, w.Body.String(), "db down")
		assert.NotContains(t, w.Body.String(), "10.1.2.3")
		assert.Zero(t, e.calls.Load())
	})
	t.Run("invalid request after the redirect URI: the error, not the outage", func(t *testing.T) {
		w := e.get(spaParams("response_type", "token"), "down")
		assertRedirectError(t, w, "https://spa.example/cb", "unsupported_response_type", "st-123")
		assert.Zero(t, e.calls.Load())
	})
}

// With SignedInUser, nobody signed in is the login redirect and a user
// goes on, as with CurrentUser.
func TestAuthorizeSignedInUser(t *testing.T) {
	e := newSessionEnv(t, "https://auth.example.com")

	t.Run("nobody: login page", func(t *testing.T) {
		params := spaParams()
		w := e.get(params, "")
		require.Equal(t, http.StatusFound, w.Code)
		assert.Equal(t, "/login?return_to="+url.QueryEscape("/oauth2/authorize?"+params.Encode()), w.Header().Get("Location"))
		assert.Empty(t, w.Body.String())
		assert.Equal(t, int32(1), e.calls.Load())
	})
	t.Run("user of a first-party client: code", func(t *testing.T) {
		w := e.get(spaParams("client_id", "first", "redirect_uri", "https://first.example/cb"), "user-1")
		q := redirected(t, w, http.StatusFound, "https://first.example/cb")
		assert.NotEmpty(t, q.Get("code"))
		assert.Equal(t, "st-123", q.Get("state"))
		assert.Equal(t, "https://auth.example.com", q.Get("iss"))
		assert.Empty(t, q.Get("error"))
	})
	t.Run("user of a third-party client: consent, then code", func(t *testing.T) {
		fields := consentFields(t, e.get(spaParams(), "user-1"))
		w := e.decide(fields, "user-1", "allow")
		q := redirected(t, w, http.StatusSeeOther, "https://spa.example/cb")
		assert.NotEmpty(t, q.Get("code"))
		assert.Equal(t, "st-123", q.Get("state"))
	})
	t.Run("the code is the user's", func(t *testing.T) {
		code := e.code(t, spaParams(), "user-7")
		w := call(e.p.TokenHandler(), req{form: exchange(code)})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "user-7", body(t, w)["user_id"])
	})
}

// An error wins over the user ID returned with it: SignedInUser could not
// tell, so no code is issued for that user. And CurrentUser keeps its old
// meaning: false is nobody whatever ID comes with it, and so is true with
// an empty ID.
func TestAuthorizeUserCallbackResults(t *testing.T) {
	first := spaParams("client_id", "first", "redirect_uri", "https://first.example/cb")
	login := "/login?return_to=" + url.QueryEscape("/oauth2/authorize?"+first.Encode())

	t.Run("SignedInUser: a user and an error is an outage", func(t *testing.T) {
		e := newAuthzEnv(t, nil, func(c *provider.AuthorizeConfig) {
			c.CurrentUser = nil
			c.SignedInUser = func(*http.Request) (string, error) { return "user-1", errSessionsDown }
		})
		w := e.get(first, "")
		assertUnavailableRedirect(t, w, http.StatusFound, "https://first.example/cb", "")
	})
	for name, cur := range map[string]func(*http.Request) (string, bool){
		"CurrentUser: an ID with false is nobody": func(*http.Request) (string, bool) { return "user-1", false },
		"CurrentUser: true with no ID is nobody":  func(*http.Request) (string, bool) { return "", true },
	} {
		t.Run(name, func(t *testing.T) {
			e := newAuthzEnv(t, nil, func(c *provider.AuthorizeConfig) { c.CurrentUser = cur })
			w := e.get(first, "")
			require.Equal(t, http.StatusFound, w.Code, w.Body.String())
			assert.Equal(t, login, w.Header().Get("Location"))
		})
	}
}
