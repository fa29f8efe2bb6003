package docs_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/storeurl"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// The tests below run several provider instances, each with its own
// connections and its own httptest server, on one networked store, as
// docs/scaling.md describes, and check its promises over HTTP.

const (
	fleetClient   = "fleet-app"
	fleetUser     = "johndoe"
	fleetPass     = "foobar42"
	fleetUA       = "fleet-test/1.0"
	fleetSPA      = "fleet-spa"
	fleetRedirect = "https://spa.example/cb"
	// RFC 7636 appendix B.
	fleetVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	fleetChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// fleet is n instances on one store.
type fleet struct {
	secret string
	stores []*storeurl.Stores
	ps     []*provider.Provider
	srvs   []*httptest.Server
	reuse  atomic.Int64 // refresh_reuse_detected events, all instances
	bmis   atomic.Int64 // binding_mismatch events, all instances
}

// newFleet starts n instances on the store at storeURL, sharing a binding
// key (when bind) and trusting loopback as their load balancer, so that
// a test picks the client's address with X-Forwarded-For.
func newFleet(t *testing.T, storeURL string, n int, bind bool, mutate func(*provider.Config)) *fleet {
	t.Helper()
	return newSkewedFleet(t, storeURL, make([]time.Duration, n), bind, mutate)
}

// newSkewedFleet is newFleet with one instance per entry of skews, whose
// clock (the provider's and its store's) is the wall clock plus that
// entry.
func newSkewedFleet(t *testing.T, storeURL string, skews []time.Duration, bind bool, mutate func(*provider.Config)) *fleet {
	t.Helper()
	n := len(skews)
	f := &fleet{}
	var key []byte
	if bind {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	consentKey := make([]byte, 32)
	_, _ = rand.Read(consentKey)
	var users authcheck.Static
	require.NoError(t, users.Add(fleetUser, fleetPass, "user-1"))
	for i := range n {
		skew := skews[i]
		now := func() time.Time { return time.Now().Add(skew) }
		s, err := storeurl.Open(t.Context(), storeURL, storeurl.Options{Now: now})
		require.NoError(t, err)
		t.Cleanup(s.Close)
		if i == 0 {
			require.NoError(t, s.Migrate(t.Context()))
			secret, hash, err := storage.NewClientSecret()
			require.NoError(t, err)
			f.secret = secret
			require.NoError(t, s.Clients.CreateClient(t.Context(), &storage.Client{
				ID: fleetClient, SecretHash: hash,
				GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken},
				Scopes:     []string{"read", "write"},
			}))
			require.NoError(t, s.Clients.CreateClient(t.Context(), &storage.Client{
				ID: fleetSPA, Public: true, RedirectURIs: []string{fleetRedirect},
				GrantTypes: []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken},
				Scopes:     []string{"read", "write"},
			}))
		}
		cfg := provider.Config{
			Clients: s.Clients, Tokens: s.Tokens, Users: &users, Limiter: s.Limiter,
			Scopes: []string{"read", "write"}, Issuer: "https://auth.example.com",
			AllowInsecureHTTP: true,
			BindingKey:        key,
			TrustedProxies:    []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
			ClientCacheTTL:    5 * time.Second,
			Now:               now,
			Events: func(_ context.Context, e provider.Event) {
				switch e.Type {
				case provider.EventRefreshReuse:
					f.reuse.Add(1)
				case provider.EventBindingMismatch:
					f.bmis.Add(1)
				}
			},
		}
		if mutate != nil {
			mutate(&cfg)
		}
		p, err := provider.New(cfg)
		require.NoError(t, err)
		mux := http.NewServeMux()
		mux.Handle("/token", p.TokenHandler())
		mux.Handle("/revoke", p.RevokeHandler())
		mux.Handle("/introspect", p.IntrospectHandler())
		az, err := p.AuthorizeHandler(provider.AuthorizeConfig{
			CurrentUser: func(r *http.Request) (string, bool) {
				u := r.Header.Get("X-Test-User")
				return u, u != ""
			},
			LoginURL:   "/login",
			ConsentKey: consentKey,
		})
		require.NoError(t, err)
		mux.Handle("/authorize", az)
		sess, err := policy.NewSessions(p, policy.SessionConfig{Scopes: []string{"read"}})
		require.NoError(t, err)
		mux.Handle("/login", sess.LoginHandler())
		mux.Handle("/logout", sess.LogoutHandler())
		mux.Handle("/me", policy.Cookie(sess)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
		})))
		mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
			raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			if _, err := p.ValidateAccessToken(r, raw); err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusOK)
		})
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		f.stores, f.ps, f.srvs = append(f.stores, s), append(f.ps, p), append(f.srvs, srv)
	}
	return f
}

type fleetReply struct {
	status int
	body   map[string]any
}

func (r fleetReply) str(k string) string { s, _ := r.body[k].(string); return s }

// post sends form to path on instance i as the client, from ip.
func (f *fleet) post(t *testing.T, i int, path, ip string, form url.Values) fleetReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srvs[i].URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", fleetUA)
	req.Header.Set("X-Forwarded-For", ip)
	req.SetBasicAuth(fleetClient, f.secret)
	return f.send(t, req)
}

// api calls the protected route of instance i with tok, from ip.
func (f *fleet) api(t *testing.T, i int, ip, tok string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srvs[i].URL+"/api", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", fleetUA)
	req.Header.Set("X-Forwarded-For", ip)
	return f.send(t, req).status
}

func (f *fleet) send(t *testing.T, req *http.Request) fleetReply {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return fleetReply{}
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return fleetReply{resp.StatusCode, m}
}

func (f *fleet) login(t *testing.T, i int, ip string) fleetReply {
	t.Helper()
	r := f.post(t, i, "/token", ip, url.Values{"grant_type": {"password"}, "username": {fleetUser}, "password": {fleetPass}, "scope": {"read"}})
	require.Equal(t, http.StatusOK, r.status, r.body)
	return r
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
}

// eachBinding runs test unbound, then with a BindingKey.
func eachBinding(t *testing.T, test func(t *testing.T, bind bool)) {
	for _, bind := range []bool{false, true} {
		name := "unbound"
		if bind {
			name = "bound"
		}
		t.Run(name, func(t *testing.T) { test(t, bind) })
	}
}

// race sends, at once, send(i) to every instance i: exactly one must
// win; the others must answer invalid_grant. It returns the winner.
func (f *fleet) race(t *testing.T, round int, send func(i int) fleetReply) *fleetReply {
	t.Helper()
	replies := make([]fleetReply, len(f.srvs))
	var wg sync.WaitGroup
	for i := range replies {
		wg.Go(func() { replies[i] = send(i) })
	}
	wg.Wait()
	var win *fleetReply
	for i := range replies {
		switch replies[i].status {
		case http.StatusOK:
			require.Nil(t, win, "round %d: two winners", round)
			win = &replies[i]
		case http.StatusBadRequest:
			assert.Equal(t, "invalid_grant", replies[i].str("error"), "round %d", round)
		default:
			t.Fatalf("round %d: instance %d answered %d %v", round, i, replies[i].status, replies[i].body)
		}
	}
	require.NotNil(t, win, "round %d: no winner", round)
	return win
}

const fleetIP = "203.0.113.7"

// The same refresh token presented at once to three instances: exactly
// one wins; the others find it consumed, which is reuse (RFC 9700
// §4.14.2; docs/operations.md: "a client that refreshes twice
// concurrently"), so the grant ends and the winner's tokens die with it.
// With binding on, the refresh has a check, which the Redis store runs
// in a separate step from the write: the result must be the same.
func TestInstances_ConcurrentRefreshIsReuse(t *testing.T) {
	eachBinding(t, func(t *testing.T, bind bool) {
		storeurltest.Each(t, func(t *testing.T, storeURL string) {
			const n = 3
			f := newFleet(t, storeURL, n, bind, nil)
			for round := range 10 {
				tr := f.login(t, 0, fleetIP)
				win := f.race(t, round, func(i int) fleetReply {
					return f.post(t, i, "/token", fleetIP, refreshForm(tr.str("refresh_token")))
				})
				// The losers were reuse: the grant is revoked.
				for i := range n {
					assert.Equal(t, http.StatusUnauthorized, f.api(t, i, fleetIP, win.str("access_token")), "round %d: the winner's access token on instance %d", round, i)
				}
				r := f.post(t, round%n, "/token", fleetIP, refreshForm(win.str("refresh_token")))
				assert.Equal(t, http.StatusBadRequest, r.status, "round %d: the winner's refresh token", round)
			}
			assert.EqualValues(t, 10*(n-1), f.reuse.Load(), "refresh_reuse_detected events")
		})
	})
}

// A token revoked at one instance (RFC 7009) is refused at once by the
// others: validation and refresh read the store, never a cache.
func TestInstances_RevocationIsImmediate(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, storeURL string) {
		f := newFleet(t, storeURL, 2, false, nil)
		tr := f.login(t, 0, fleetIP)
		// b caches the client.
		tr = f.post(t, 1, "/token", fleetIP, refreshForm(tr.str("refresh_token")))
		require.Equal(t, http.StatusOK, tr.status, tr.body)
		at, rt := tr.str("access_token"), tr.str("refresh_token")
		require.Equal(t, http.StatusOK, f.api(t, 1, fleetIP, at))

		r := f.post(t, 0, "/revoke", fleetIP, url.Values{"token": {at}, "token_type_hint": {"access_token"}})
		require.Equal(t, http.StatusOK, r.status)
		assert.Equal(t, http.StatusUnauthorized, f.api(t, 1, fleetIP, at), "revoked access token")
		assert.Equal(t, false, f.post(t, 1, "/introspect", fleetIP, url.Values{"token": {at}}).body["active"])

		r = f.post(t, 0, "/revoke", fleetIP, url.Values{"token": {rt}})
		require.Equal(t, http.StatusOK, r.status)
		r = f.post(t, 1, "/token", fleetIP, refreshForm(rt))
		assert.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Equal(t, "invalid_grant", r.str("error"))

		// DisableClient at one instance: the other, which cached the
		// client, refuses its refreshes at once.
		tr = f.login(t, 0, fleetIP)
		tr = f.post(t, 1, "/token", fleetIP, refreshForm(tr.str("refresh_token")))
		require.Equal(t, http.StatusOK, tr.status, tr.body)
		_, err := f.ps[0].DisableClient(t.Context(), fleetClient)
		require.NoError(t, err)
		r = f.post(t, 1, "/token", fleetIP, refreshForm(tr.str("refresh_token")))
		assert.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Equal(t, http.StatusUnauthorized, f.api(t, 1, fleetIP, tr.str("access_token")))
	})
}

// A client marked Disabled in the store alone (no DisableClient) keeps
// refreshing at an instance that cached it for at most ClientCacheTTL,
// as documented; then it is refused.
func TestInstances_StoreOnlyDisableLagsAtMostTheTTL(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, storeURL string) {
		const ttl = time.Second
		f := newFleet(t, storeURL, 2, false, func(c *provider.Config) { c.ClientCacheTTL = ttl })
		rt := f.login(t, 0, fleetIP).str("refresh_token")
		r := f.post(t, 1, "/token", fleetIP, refreshForm(rt)) // b caches the client
		require.Equal(t, http.StatusOK, r.status, r.body)
		cached := time.Now()
		rt = r.str("refresh_token")

		ctx := t.Context()
		c, err := f.stores[0].Clients.GetClient(ctx, fleetClient)
		require.NoError(t, err)
		c.Disabled = true
		require.NoError(t, f.stores[0].Clients.UpdateClient(ctx, c))

		// Instance a has no cache entry: refused at once.
		r = f.post(t, 0, "/token", fleetIP, refreshForm(rt))
		assert.Equal(t, http.StatusUnauthorized, r.status, r.body)

		// The entry was made before cached: a request sent past
		// cached+ttl that still succeeds was served past the TTL.
		for {
			sent := time.Now()
			r = f.post(t, 1, "/token", fleetIP, refreshForm(rt))
			if r.status != http.StatusOK {
				break
			}
			rt = r.str("refresh_token")
			require.Less(t, sent.Sub(cached), ttl, "a disabled client still refreshes past the TTL")
			time.Sleep(20 * time.Millisecond)
		}
		assert.Equal(t, http.StatusUnauthorized, r.status, r.body)
		assert.Equal(t, "invalid_client", r.str("error"))
	})
}

// With one BindingKey on every instance, a bound token works at each of
// them from its client, and a refresh at one binds nothing new; from
// another IP, at any instance, it is refused and the grant revoked
// everywhere.
func TestInstances_BindingIsShared(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, storeURL string) {
		const n = 3
		f := newFleet(t, storeURL, n, true, nil)
		for thief := range n {
			tr := f.login(t, thief, fleetIP)
			at, rt := tr.str("access_token"), tr.str("refresh_token")
			for i := range n {
				assert.Equal(t, http.StatusOK, f.api(t, i, fleetIP, at), "instance %d", i)
			}
			for i := range n {
				r := f.post(t, i, "/token", fleetIP, refreshForm(rt))
				require.Equal(t, http.StatusOK, r.status, "instance %d: %v", i, r.body)
				at, rt = r.str("access_token"), r.str("refresh_token")
				for j := range n {
					assert.Equal(t, http.StatusOK, f.api(t, j, fleetIP, at), "refreshed at %d, used at %d", i, j)
				}
			}
			before := f.bmis.Load()
			// Another IP at instance (thief+1)%n: refused, grant revoked.
			assert.Equal(t, http.StatusUnauthorized, f.api(t, (thief+1)%n, "198.51.100.9", at))
			assert.Equal(t, before+1, f.bmis.Load(), "binding_mismatch")
			for i := range n {
				assert.Equal(t, http.StatusUnauthorized, f.api(t, i, fleetIP, at), "instance %d after the mismatch", i)
			}
			r := f.post(t, thief, "/token", fleetIP, refreshForm(rt))
			assert.Equal(t, http.StatusBadRequest, r.status, r.body)

			// The same with a refresh token from another IP.
			tr = f.login(t, thief, fleetIP)
			r = f.post(t, (thief+2)%n, "/token", "198.51.100.9", refreshForm(tr.str("refresh_token")))
			assert.Equal(t, http.StatusBadRequest, r.status, r.body)
			assert.Equal(t, "invalid_grant", r.str("error"))
			for i := range n {
				assert.Equal(t, http.StatusUnauthorized, f.api(t, i, fleetIP, tr.str("access_token")), "instance %d after a refresh mismatch", i)
			}
		}
	})
}

var fleetHidden = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize sends an authorization request to instance i as user, from
// ip: a GET of query, or a POST of form; it returns the response, body
// read.
func (f *fleet) authorize(t *testing.T, i int, ip string, query, form url.Values) (*http.Response, string) {
	t.Helper()
	var req *http.Request
	var err error
	if form == nil {
		req, err = http.NewRequest(http.MethodGet, f.srvs[i].URL+"/authorize?"+query.Encode(), nil)
	} else {
		req, err = http.NewRequest(http.MethodPost, f.srvs[i].URL+"/authorize", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	require.NoError(t, err)
	req.Header.Set("X-Test-User", "user-1")
	req.Header.Set("User-Agent", fleetUA)
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// codeAcross gets a code: the consent form shown by instance shown,
// submitted to instance decided.
func (f *fleet) codeAcross(t *testing.T, shown, decided int) string {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {fleetSPA}, "redirect_uri": {fleetRedirect},
		"scope": {"read"}, "state": {"st"}, "code_challenge": {fleetChallenge}, "code_challenge_method": {"S256"}}
	resp, body := f.authorize(t, shown, fleetIP, q, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	form := url.Values{}
	for _, m := range fleetHidden.FindAllStringSubmatch(body, -1) {
		form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	require.NotEmpty(t, form.Get("consent_token"), body)
	form.Set("decision", "allow")
	resp, body = f.authorize(t, decided, fleetIP, nil, form)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "st", loc.Query().Get("state"))
	code := loc.Query().Get("code")
	require.NotEmpty(t, code, loc.String())
	return code
}

// codeForm is the token request exchanging code, with the verifier of
// fleetChallenge.
func codeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {fleetRedirect}, "code_verifier": {fleetVerifier}}
}

// postPublic sends form to the token endpoint of instance i as the public
// client, from ip.
func (f *fleet) postPublic(t *testing.T, i int, ip string, form url.Values) fleetReply {
	t.Helper()
	form.Set("client_id", fleetSPA)
	req, err := http.NewRequest(http.MethodPost, f.srvs[i].URL+"/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", fleetUA)
	req.Header.Set("X-Forwarded-For", ip)
	return f.send(t, req)
}

// A consent form shown by one instance is accepted by another sharing
// ConsentKey, and the code it gives is exchanged at a third; the same
// code presented at once to every instance: exactly one wins, and the
// others are reuse, which revokes what the winner got (RFC 6749 §4.1.2).
func TestInstances_CodeFlowAcross(t *testing.T) {
	eachBinding(t, func(t *testing.T, bind bool) {
		storeurltest.Each(t, func(t *testing.T, storeURL string) {
			const n = 3
			f := newFleet(t, storeURL, n, bind, nil)
			code := f.codeAcross(t, 0, 1)
			r := f.postPublic(t, 2, fleetIP, codeForm(code))
			require.Equal(t, http.StatusOK, r.status, r.body)
			for i := range n {
				assert.Equal(t, http.StatusOK, f.api(t, i, fleetIP, r.str("access_token")), "instance %d", i)
			}
			r = f.postPublic(t, 0, fleetIP, refreshForm(r.str("refresh_token")))
			require.Equal(t, http.StatusOK, r.status, r.body)

			for round := range 5 {
				code := f.codeAcross(t, round%n, (round+1)%n)
				win := f.race(t, round, func(i int) fleetReply {
					return f.postPublic(t, i, fleetIP, codeForm(code))
				})
				for i := range n {
					assert.Equal(t, http.StatusUnauthorized, f.api(t, i, fleetIP, win.str("access_token")), "round %d: instance %d", round, i)
				}
			}
		})
	})
}

// DisableClient at one instance ends the codes its client holds but has
// not exchanged yet: another instance, whose cache still holds the
// client, refuses them (docs/scaling.md, "Disabling stays immediate").
func TestInstances_DisableClientEndsPendingCodes(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, storeURL string) {
		f := newFleet(t, storeURL, 2, false, nil)
		r := f.postPublic(t, 1, fleetIP, codeForm(f.codeAcross(t, 0, 0))) // b caches the client
		require.Equal(t, http.StatusOK, r.status, r.body)
		code := f.codeAcross(t, 0, 0)
		_, err := f.ps[0].DisableClient(t.Context(), fleetSPA)
		require.NoError(t, err)
		r = f.postPublic(t, 1, fleetIP, codeForm(code))
		assert.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Equal(t, "invalid_grant", r.str("error"))
	})
}
