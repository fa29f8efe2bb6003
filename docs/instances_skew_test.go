package docs_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// fleetSkews are the clocks of a skewed fleet: one on time, one two
// minutes behind, one two minutes ahead (docs/scaling.md, "Clocks").
var fleetSkews = []time.Duration{0, -2 * time.Minute, 2 * time.Minute}

// Tokens issued by an instance whose clock is minutes off are accepted
// fresh by the others, and a revocation made at any of them, of a token,
// a user or a client, holds at once at every other, whatever their
// clocks say: revocation is a mark, not an instant compared with a clock.
func TestInstances_SkewedClocksRevoke(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, storeURL string) {
		f := newSkewedFleet(t, storeURL, fleetSkews, false, nil)
		n := len(fleetSkews)
		for issuer := range n {
			tr := f.login(t, issuer, fleetIP)
			for i := range n {
				assert.Equal(t, http.StatusOK, f.api(t, i, fleetIP, tr.str("access_token")), "issued by %d, used at %d", issuer, i)
			}
			// Rotate once at every instance: each accepts the refresh
			// token the previous one issued.
			for i := range n {
				r := f.post(t, (issuer+i)%n, "/token", fleetIP, refreshForm(tr.str("refresh_token")))
				require.Equal(t, http.StatusOK, r.status, "refresh at %d: %v", (issuer+i)%n, r.body)
				tr = r
			}
			at := tr.str("access_token")
			r := f.post(t, (issuer+1)%n, "/revoke", fleetIP, url.Values{"token": {at}})
			require.Equal(t, http.StatusOK, r.status)
			for i := range n {
				assert.Equal(t, http.StatusUnauthorized, f.api(t, i, fleetIP, at), "revoked at %d, used at %d", (issuer+1)%n, i)
				r := f.post(t, i, "/token", fleetIP, refreshForm(tr.str("refresh_token")))
				assert.Equal(t, http.StatusBadRequest, r.status, "revoked at %d, refreshed at %d: %v", (issuer+1)%n, i, r.body)
			}
		}

		// RevokeUser and DisableClient from each instance end the grants
		// the others issued.
		for revoker := range n {
			var grants []fleetReply
			for i := range n {
				grants = append(grants, f.login(t, i, fleetIP))
			}
			_, err := f.stores[revoker].Tokens.RevokeUser(t.Context(), "user-1")
			require.NoError(t, err)
			for g, tr := range grants {
				for i := range n {
					assert.Equal(t, http.StatusUnauthorized, f.api(t, i, fleetIP, tr.str("access_token")), "issued by %d, user revoked by %d, used at %d", g, revoker, i)
					r := f.post(t, i, "/token", fleetIP, refreshForm(tr.str("refresh_token")))
					assert.Equal(t, http.StatusBadRequest, r.status, "issued by %d, user revoked by %d, refreshed at %d", g, revoker, i)
				}
			}
		}
		var grants []fleetReply
		for i := range n {
			grants = append(grants, f.login(t, i, fleetIP))
		}
		_, err := f.ps[1].DisableClient(t.Context(), fleetClient)
		require.NoError(t, err)
		for g, tr := range grants {
			for i := range n {
				assert.Equal(t, http.StatusUnauthorized, f.api(t, i, fleetIP, tr.str("access_token")), "issued by %d, used at %d after DisableClient", g, i)
			}
		}
	})
}

// A session cookie issued by one instance works at every other, whatever
// their clocks, and a logout, or RevokeUser, at any of them ends it at
// all of them.
func TestInstances_SessionAcross(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, storeURL string) {
		f := newSkewedFleet(t, storeURL, fleetSkews, false, nil)
		n := len(fleetSkews)
		for issuer := range n {
			r := f.form(t, issuer, "/login", "", url.Values{"username": {fleetUser}, "password": {fleetPass}})
			require.Equal(t, http.StatusOK, r.status, r.body)
			cookie := r.cookie
			require.NotEmpty(t, cookie)
			for i := range n {
				assert.Equal(t, http.StatusOK, f.form(t, i, "/me", cookie, nil).status, "issued by %d, used at %d", issuer, i)
			}
			out := (issuer + 1) % n
			r = f.form(t, out, "/logout", cookie, url.Values{})
			require.Equal(t, http.StatusNoContent, r.status, r.body)
			for i := range n {
				assert.Equal(t, http.StatusUnauthorized, f.form(t, i, "/me", cookie, nil).status, "issued by %d, logged out at %d, used at %d", issuer, out, i)
			}
		}

		// RevokeUser at any instance ends the user's sessions at all.
		for revoker := range n {
			var cookies []string
			for issuer := range n {
				r := f.form(t, issuer, "/login", "", url.Values{"username": {fleetUser}, "password": {fleetPass}})
				require.Equal(t, http.StatusOK, r.status)
				cookies = append(cookies, r.cookie)
			}
			_, err := f.stores[revoker].Tokens.RevokeUser(t.Context(), "user-1")
			require.NoError(t, err)
			for issuer, cookie := range cookies {
				for i := range n {
					assert.Equal(t, http.StatusUnauthorized, f.form(t, i, "/me", cookie, nil).status, "issued by %d, user revoked at %d, used at %d", issuer, revoker, i)
				}
			}
		}
	})
}

type formReply struct {
	fleetReply
	cookie string // name=value of the cookie set, if any
}

// form sends a browser request to path on instance i with the cookie
// (name=value) when set: a POST of the form when not nil, else a GET.
func (f *fleet) form(t *testing.T, i int, path, cookie string, form url.Values) formReply {
	t.Helper()
	method, body := http.MethodGet, ""
	if form != nil {
		method, body = http.MethodPost, form.Encode()
	}
	req, err := http.NewRequest(method, f.srvs[i].URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", fleetUA)
	req.Header.Set("X-Forwarded-For", fleetIP)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	r := formReply{fleetReply: fleetReply{status: resp.StatusCode}}
	for _, c := range resp.Cookies() {
		if c.MaxAge > 0 {
			r.cookie = c.Name + "=" + c.Value
		}
	}
	return r
}

// The refresh reuse grace ends once the chain moved on, a later token of
// the grant used (Config.RefreshReuseGrace), also when the instances that
// recorded the two uses disagree on the time: a refresh token used at an
// instance whose clock is ahead, then its successor used at one whose
// clock is on time, is reuse when presented again, and the grant ends.
// With binding on, the exchange has a Check (a transaction on Postgres):
// the same.
func TestInstances_SkewedClocksGraceEndsWhenTheChainMovesOn(t *testing.T) {
	eachBinding(t, func(t *testing.T, bind bool) {
		storeurltest.Each(t, func(t *testing.T, storeURL string) {
			const grace = 30 * time.Second
			f := newSkewedFleet(t, storeURL, fleetSkews, bind, func(c *provider.Config) { c.RefreshReuseGrace = grace })
			for _, order := range [][2]int{{2, 0}, {0, 1}, {2, 1}} {
				first, next := order[0], order[1]
				t1 := f.login(t, 0, fleetIP).str("refresh_token")
				r := f.post(t, first, "/token", fleetIP, refreshForm(t1))
				require.Equal(t, http.StatusOK, r.status, r.body)
				r = f.post(t, next, "/token", fleetIP, refreshForm(r.str("refresh_token")))
				require.Equal(t, http.StatusOK, r.status, r.body)
				at := r.str("access_token")

				before := f.reuse.Load()
				replay := f.post(t, next, "/token", fleetIP, refreshForm(t1))
				assert.Equal(t, http.StatusBadRequest, replay.status, "T1 used at %d, T2 at %d, T1 again at %d: %v", first, next, next, replay.body)
				assert.Equal(t, before+1, f.reuse.Load(), "refresh_reuse_detected")
				assert.Equal(t, http.StatusUnauthorized, f.api(t, first, fleetIP, at), "the grant ended: T1 used at %d, T2 at %d", first, next)
			}
		})
	})
}

// With a shared Limiter (Redis), failed passwords counted at any instance
// use up one budget, whatever the instances' clocks (the limiter keeps
// Redis's): five wrong passwords spread over three instances, and the
// sixth attempt, even with the right password, is 429 at every one. On
// Postgres, which has no shared limiter, each instance counts for itself,
// as docs/scaling.md says.
func TestInstances_ThrottlingIsShared(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, storeURL string) {
		f := newSkewedFleet(t, storeURL, fleetSkews, false, nil)
		n := len(fleetSkews)
		wrong := url.Values{"grant_type": {"password"}, "username": {fleetUser}, "password": {"wrong"}}
		for i := range 5 {
			r := f.post(t, i%n, "/token", fleetIP, wrong)
			require.Equal(t, http.StatusBadRequest, r.status, "attempt %d at %d: %v", i+1, i%n, r.body)
		}
		right := url.Values{"grant_type": {"password"}, "username": {fleetUser}, "password": {fleetPass}}
		for i := range n {
			r := f.post(t, i, "/token", fleetIP, right)
			if f.stores[0].Limiter == nil {
				assert.Equal(t, http.StatusOK, r.status, "instance %d counts its own failures only: %v", i, r.body)
				continue
			}
			assert.Equal(t, http.StatusTooManyRequests, r.status, "instance %d: %v", i, r.body)
		}
	})
}

// A client secret replaced in the store alone (oauth2ctl client
// rotate-secret) works at once at an instance that cached the client
// (the cached entry refuses it, and the client is read again), and the
// old secret then stops working there too; a password grant, which never
// uses the cache, refuses the old secret at once everywhere.
func TestInstances_RotatedSecretAcrossCaches(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, storeURL string) {
		f := newSkewedFleet(t, storeURL, fleetSkews, false, func(c *provider.Config) { c.ClientCacheTTL = time.Hour })
		n := len(fleetSkews)
		rts := make([]string, n)
		for i := range n {
			rts[i] = f.login(t, i, fleetIP).str("refresh_token")
			r := f.post(t, i, "/token", fleetIP, refreshForm(rts[i])) // i caches the client
			require.Equal(t, http.StatusOK, r.status, r.body)
			rts[i] = r.str("refresh_token")
		}
		old := f.secret
		secret, hash, err := storage.NewClientSecret()
		require.NoError(t, err)
		ctx := t.Context()
		c, err := f.stores[0].Clients.GetClient(ctx, fleetClient)
		require.NoError(t, err)
		c.SecretHash = hash
		require.NoError(t, f.stores[0].Clients.UpdateClient(ctx, c))

		for i := range n {
			f.secret = old
			r := f.post(t, i, "/token", fleetIP, url.Values{"grant_type": {"password"}, "username": {fleetUser}, "password": {fleetPass}})
			assert.Equal(t, http.StatusUnauthorized, r.status, "instance %d: a password grant with the old secret: %v", i, r.body)
			f.secret = secret
			r = f.post(t, i, "/token", fleetIP, refreshForm(rts[i]))
			require.Equal(t, http.StatusOK, r.status, "instance %d: the new secret at once: %v", i, r.body)
			f.secret = old
			r = f.post(t, i, "/token", fleetIP, refreshForm(r.str("refresh_token")))
			assert.Equal(t, http.StatusUnauthorized, r.status, "instance %d: the old secret, once the new one was read: %v", i, r.body)
		}
	})
}

// Expiry is judged by each instance's clock, so a skew between instances
// shifts every lifetime by as much, and a lifetime shorter than the skew
// can be over on arrival (docs/scaling.md, "Clocks"): an authorization
// code (60 s) issued by an instance two minutes behind is refused by one
// on time, while with a few seconds of skew it is exchanged anywhere.
func TestInstances_SkewLongerThanACodeLifetime(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, storeURL string) {
		f := newSkewedFleet(t, storeURL, []time.Duration{0, -2 * time.Minute, -3 * time.Second, 3 * time.Second}, false, nil)
		code := f.codeAcross(t, 1, 1) // two minutes behind
		r := f.postPublic(t, 0, fleetIP, codeForm(code))
		assert.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Equal(t, "invalid_grant", r.str("error"))

		for _, at := range []int{0, 3} {
			code := f.codeAcross(t, 2, 2) // three seconds behind
			r := f.postPublic(t, at, fleetIP, codeForm(code))
			assert.Equal(t, http.StatusOK, r.status, "issued three seconds behind, exchanged at %d: %v", at, r.body)
		}
	})
}
