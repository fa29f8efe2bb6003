package provider_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/oauth2provider/oauth2provider/provider"
)

func TestCodeGrantIssuesTokens(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	code := e.code(t, spaParams("scope", "read write"), "user-1")
	m := assertToken(t, e.do(req{form: exchange(code)}))
	assert.Equal(t, "read write", m["scope"])
	assert.Equal(t, "user-1", m["user_id"])
	assert.EqualValues(t, 3600, m["expires_in"])
	require.True(t, strings.HasPrefix(m["refresh_token"].(string), "ort_"))
	ti, err := e.validate(m["access_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, "spa", ti.Grant.ClientID)
	assert.Equal(t, "user-1", ti.Grant.UserID)

	// The public client's refresh token rotates (RFC 9700 §4.14.2).
	m2 := assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {m["refresh_token"].(string)}}}))
	assert.NotEqual(t, m["refresh_token"], m2["refresh_token"])
	assertError(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {m["refresh_token"].(string)}}}), 400, "invalid_grant")
}

func TestCodeGrantConfidentialClient(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	web := []string{"web", confSecret}
	t.Run("with PKCE and Basic auth, redirect_uri omitted in both", func(t *testing.T) {
		code := e.code(t, spaParams("client_id", "web", "redirect_uri", ""), "user-1")
		assertToken(t, e.do(req{form: exchange(code, "client_id", "", "redirect_uri", ""), basic: web}))
	})
	t.Run("redirect_uri left out of the request may not appear in the exchange", func(t *testing.T) {
		code := e.code(t, spaParams("client_id", "web", "redirect_uri", ""), "user-1")
		w := e.do(req{form: exchange(code, "client_id", "", "redirect_uri", "https://web.example/cb"), basic: web})
		assertError(t, w, 400, "invalid_grant")
		assert.Equal(t, "redirect_uri was not part of the authorization request", body(t, w)["error_description"])
	})
	t.Run("RFC 7636 §4.6: a code issued with a challenge needs its code_verifier", func(t *testing.T) {
		code := e.code(t, spaParams("client_id", "web", "redirect_uri", "https://web.example/cb"), "user-1")
		w := e.do(req{form: exchange(code, "client_id", "", "redirect_uri", "https://web.example/cb", "code_verifier", ""), basic: web})
		assertError(t, w, 400, "invalid_grant")
		assert.Equal(t, "missing code_verifier", body(t, w)["error_description"])
	})
	t.Run("without PKCE", func(t *testing.T) {
		code := e.code(t, spaParams("client_id", "web", "redirect_uri", "https://web.example/cb", "code_challenge", "", "code_challenge_method", ""), "user-1")
		w := e.do(req{form: exchange(code, "client_id", "", "redirect_uri", "https://web.example/cb", "code_verifier", ""), basic: web})
		assertToken(t, w)
	})
	t.Run("a verifier for a code without challenge is refused (PKCE downgrade)", func(t *testing.T) {
		code := e.code(t, spaParams("client_id", "web", "redirect_uri", "https://web.example/cb", "code_challenge", "", "code_challenge_method", ""), "user-1")
		w := e.do(req{form: exchange(code, "client_id", "", "redirect_uri", "https://web.example/cb"), basic: web})
		assertError(t, w, 400, "invalid_grant")
	})
	t.Run("confidential client must authenticate", func(t *testing.T) {
		code := e.code(t, spaParams("client_id", "web", "redirect_uri", ""), "user-1")
		assertError(t, e.do(req{form: exchange(code, "client_id", "web", "redirect_uri", "")}), 401, "invalid_client")
	})
}

func TestCodeGrantErrors(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	cases := []struct {
		name   string
		form   func(code string) url.Values
		basic  []string
		status int
		errc   string
	}{
		{"missing code", func(string) url.Values { return exchange("", "code", "") }, nil, 400, "invalid_request"},
		{"malformed code", func(c string) url.Values { return exchange(c[:len(c)-1] + "x") }, nil, 400, "invalid_grant"},
		{"wrong verifier (RFC 7636 §4.6)", func(c string) url.Values { return exchange(c, "code_verifier", strings.Repeat("a", 43)) }, nil, 400, "invalid_grant"},
		{"missing verifier", func(c string) url.Values { return exchange(c, "code_verifier", "") }, nil, 400, "invalid_grant"},
		{"verifier too short", func(c string) url.Values { return exchange(c, "code_verifier", "abc") }, nil, 400, "invalid_request"},
		{"verifier with bad characters", func(c string) url.Values { return exchange(c, "code_verifier", strings.Repeat("+", 43)) }, nil, 400, "invalid_request"},
		{"challenge as verifier", func(c string) url.Values { return exchange(c, "code_verifier", testChallenge) }, nil, 400, "invalid_grant"},
		{"redirect_uri differs", func(c string) url.Values { return exchange(c, "redirect_uri", "https://spa.example/cb2?keep=1") }, nil, 400, "invalid_grant"},
		// RFC 6749 §4.1.3: "identical", not merely alike: as long, or equal but for case.
		{"redirect_uri differs in one character", func(c string) url.Values { return exchange(c, "redirect_uri", "https://spa.example/cc") }, nil, 400, "invalid_grant"},
		{"redirect_uri differs in case only", func(c string) url.Values { return exchange(c, "redirect_uri", "https://spa.example/CB") }, nil, 400, "invalid_grant"},
		{"redirect_uri missing", func(c string) url.Values { return exchange(c, "redirect_uri", "") }, nil, 400, "invalid_grant"},
		{"code of another client", func(c string) url.Values { return exchange(c, "client_id", "first") }, nil, 400, "invalid_grant"},
		{"client may not use the grant", func(c string) url.Values { return exchange(c, "client_id", "") }, conf, 400, "unauthorized_client"},
		{"repeated code", func(c string) url.Values { v := exchange(c); v.Add("code", c); return v }, nil, 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code := e.code(t, spaParams(), "user-1")
			assertError(t, e.do(req{form: c.form(code), basic: c.basic}), c.status, c.errc)
			// A refused request consumes nothing.
			assertToken(t, e.do(req{form: exchange(code)}))
		})
	}
	t.Run("code in the URL query", func(t *testing.T) {
		code := e.code(t, spaParams(), "user-1")
		assertError(t, e.do(req{form: exchange(code), query: "code=" + code}), 400, "invalid_request")
	})
	t.Run("refresh token presented as a code", func(t *testing.T) {
		m := assertToken(t, e.do(req{form: exchange(e.code(t, spaParams(), "user-1"))}))
		assertError(t, e.do(req{form: exchange(m["refresh_token"].(string))}), 400, "invalid_grant")
	})
	t.Run("expired code (60 s)", func(t *testing.T) {
		code := e.code(t, spaParams(), "user-1")
		e.clock.Advance(60 * time.Second)
		assertError(t, e.do(req{form: exchange(code)}), 400, "invalid_grant")
	})
	t.Run("store outage is 503", func(t *testing.T) {
		code := e.code(t, spaParams(), "user-1")
		e.store.setFail(context.DeadlineExceeded)
		w := e.do(req{form: exchange(code)})
		e.store.setFail(nil)
		assertError(t, w, 503, "temporarily_unavailable")
	})
}

// A code is single use; presenting it again revokes the tokens issued from
// it (RFC 6749 §4.1.2).
func TestCodeGrantReuseRevokesTokens(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	code := e.code(t, spaParams(), "user-1")
	m := assertToken(t, e.do(req{form: exchange(code)}))
	_, err := e.validate(m["access_token"].(string))
	require.NoError(t, err)

	assertError(t, e.do(req{form: exchange(code)}), 400, "invalid_grant")
	_, err = e.validate(m["access_token"].(string))
	assert.ErrorIs(t, err, provider.ErrInvalidToken, "the access token issued from the code is revoked")
	w := e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "client_id": {"spa"}, "refresh_token": {m["refresh_token"].(string)}}})
	assertError(t, w, 400, "invalid_grant")
}

// A code presented again is reported, as a refresh token presented again
// is: it revoked a grant, which logs its user out, and it is the sign of
// an intercepted code (RFC 6749 §10.5, RFC 9700 §4.5).
func TestCodeGrantReuseIsReported(t *testing.T) {
	var (
		mu     sync.Mutex
		events []provider.Event
	)
	e := newAuthzEnv(t, func(c *provider.Config) {
		c.Events = func(_ context.Context, ev provider.Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, ev)
		}
	}, nil)
	code := e.code(t, spaParams(), "user-1")
	m := assertToken(t, e.do(req{form: exchange(code)}))
	ti, err := e.validate(m["access_token"].(string))
	require.NoError(t, err)
	mu.Lock()
	events = nil
	mu.Unlock()

	assertError(t, e.do(req{form: exchange(code)}), 400, "invalid_grant")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, events, 1, "the replay is reported")
	assert.Equal(t, provider.Event{Type: provider.EventCodeReuse, Time: e.clock.Now(), ClientID: "spa", UserID: "user-1",
		GrantID: ti.Grant.ID, IP: netip.MustParseAddr("192.0.2.1"),
		Reason: "consumed authorization code presented again; grant revoked"}, events[0])
	assert.Equal(t, slog.LevelWarn, events[0].Level())
}

// Of N concurrent exchanges of one code over HTTP exactly one wins; the
// losers are reuse, which revokes what the winner got.
func TestCodeGrantConcurrentExchangeOneWinner(t *testing.T) {
	e := newAuthzEnv(t, func(c *provider.Config) { c.AllowInsecureHTTP = true }, nil)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	code := e.code(t, spaParams(), "user-1")

	const n = 16
	statuses := make([]int, n)
	bodies := make([]string, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			resp, err := srv.Client().PostForm(srv.URL, exchange(code))
			if !assert.NoError(t, err) {
				return
			}
			defer resp.Body.Close()
			var b strings.Builder
			_, _ = readInto(&b, resp)
			statuses[i], bodies[i] = resp.StatusCode, b.String()
		})
	}
	start.Done()
	done.Wait()
	winners := 0
	var winner string
	for i := range n {
		switch statuses[i] {
		case http.StatusOK:
			winners++
			winner = bodies[i]
		default:
			assert.Equal(t, http.StatusBadRequest, statuses[i])
			assert.Contains(t, bodies[i], `"error":"invalid_grant"`)
		}
	}
	require.Equal(t, 1, winners, "exactly one exchange wins")
	access := winner[strings.Index(winner, `"access_token":"`)+16:]
	access = access[:strings.IndexByte(access, '"')]
	_, err := e.validate(access)
	assert.ErrorIs(t, err, provider.ErrInvalidToken, "the losers' reuse revoked the winner's tokens")
}

// The whole flow with golang.org/x/oauth2: AuthCodeURL with
// S256ChallengeOption, a browser that is signed in, Exchange with
// VerifierOption.
func TestCodeGrantWithXOAuth2(t *testing.T) {
	e := newAuthzEnv(t, func(c *provider.Config) { c.AllowInsecureHTTP = true }, nil)
	mux := http.NewServeMux()
	mux.Handle("/oauth2/authorize", e.az)
	mux.Handle("/oauth2/token", e.h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cfg := oauth2.Config{
		ClientID:    "spa",
		Endpoint:    oauth2.Endpoint{AuthURL: srv.URL + "/oauth2/authorize", TokenURL: srv.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: "http://127.0.0.1:41234/callback", // loopback, any port
		Scopes:      []string{"read", "write"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("xyz-state", oauth2.S256ChallengeOption(verifier))

	// The browser: signed in as user-1, stops at the client's callback.
	browser := &http.Client{CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if r.URL.Path == "/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	get := func(u string) *http.Response {
		r, _ := http.NewRequest(http.MethodGet, u, nil)
		r.AddCookie(&http.Cookie{Name: userCookie, Value: "user-1"})
		resp, err := browser.Do(r)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get(authURL)
	require.Equal(t, http.StatusOK, resp.StatusCode, "consent page")
	var page strings.Builder
	_, _ = readInto(&page, resp)
	fields := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page.String(), -1) {
		fields.Set(m[1], htmlUnescape(m[2]))
	}
	fields.Set("decision", "allow")
	post, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/authorize", strings.NewReader(fields.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("Sec-Fetch-Site", "same-origin")
	post.AddCookie(&http.Cookie{Name: userCookie, Value: "user-1"})
	resp, err := browser.Do(post)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:41234", loc.Host)
	assert.Equal(t, "xyz-state", loc.Query().Get("state"))

	tok, err := cfg.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.Equal(t, "user-1", tok.Extra("user_id"))
	assert.Equal(t, "read write", tok.Extra("scope"))
	assert.NotEmpty(t, tok.RefreshToken)
	ti, err := e.validate(tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "spa", ti.Grant.ClientID)

	// A second exchange of the same code fails and revokes the first.
	_, err = cfg.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "invalid_grant", re.ErrorCode)
	_, err = e.validate(tok.AccessToken)
	assert.ErrorIs(t, err, provider.ErrInvalidToken)
}

// A used code presented again revokes the grant only within the code's
// lifetime, as documented: the store keeps a consumed code that long (the
// storage.TokenStore contract), and past it the code is refused as any
// expired code is.
func TestCodeGrantReuseRevokesWithinTheCodeLifetimeOnly(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	code := e.code(t, spaParams(), "user-1")
	m := assertToken(t, e.do(req{form: exchange(code)}))
	e.clock.Advance(60 * time.Second)
	assertError(t, e.do(req{form: exchange(code)}), 400, "invalid_grant")
	_, err := e.validate(m["access_token"].(string))
	assert.NoError(t, err, "past the code's lifetime, a replay revokes nothing")

	code = e.code(t, spaParams(), "user-1")
	m = assertToken(t, e.do(req{form: exchange(code)}))
	e.clock.Advance(59 * time.Second)
	assertError(t, e.do(req{form: exchange(code)}), 400, "invalid_grant")
	_, err = e.validate(m["access_token"].(string))
	assert.ErrorIs(t, err, provider.ErrInvalidToken, "within it, a replay revokes the grant")
}

// The tokens of a code exchange live from the exchange: the access token
// is active until exactly AccessTokenTTL (3600 s) after it, and its
// introspected iat and exp say so (RFC 7662 §2.2).
func TestCodeGrantTokensLiveFromTheExchange(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	code := e.code(t, spaParams(), "user-1")
	e.clock.Advance(30 * time.Second) // the exchange comes later than the code
	issued := e.clock.Now()
	m := assertToken(t, e.do(req{form: exchange(code)}))
	assert.Equal(t, float64(3600), m["expires_in"])
	at := m["access_token"].(string)
	introspect := e.p.IntrospectHandler()

	e.clock.Advance(time.Hour - time.Second)
	w := call(introspect, req{form: tokenForm(at), basic: conf})
	require.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body.String())
	got := body(t, w)
	assert.Equal(t, true, got["active"])
	assert.Equal(t, float64(issued.Unix()), got["iat"])
	assert.Equal(t, float64(issued.Add(time.Hour).Unix()), got["exp"])

	e.clock.Advance(time.Second)
	w = call(introspect, req{form: tokenForm(at), basic: conf})
	require.Equal(t, http.StatusOK, w.Code, "body: %s", w.Body.String())
	assert.Equal(t, map[string]any{"active": false}, body(t, w))
}
