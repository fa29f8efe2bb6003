package provider_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// A consent form is valid for the whole of ConsentTTL: the token holds
// its expiry in whole seconds, which must not cut the TTL short (a TTL
// under a second made every form expired on arrival).
func TestAuthorizeConsentTTLIsNotCutShort(t *testing.T) {
	for _, c := range []struct {
		ttl, wait time.Duration
	}{
		{500 * time.Millisecond, 0},
		{500 * time.Millisecond, 400 * time.Millisecond},
		{1500 * time.Millisecond, 1200 * time.Millisecond},
		{10 * time.Minute, 10*time.Minute - time.Millisecond},
	} {
		e := newAuthzEnv(t, nil, func(cfg *provider.AuthorizeConfig) { cfg.ConsentTTL = c.ttl })
		e.clock.Advance(300 * time.Millisecond) // off a whole second
		fields := consentFields(t, e.get(spaParams(), "user-1"))
		e.clock.Advance(c.wait)
		q := redirected(t, e.decide(fields, "user-1", "allow"), http.StatusSeeOther, "https://spa.example/cb")
		assert.NotEmpty(t, q.Get("code"), "ttl %v, posted after %v", c.ttl, c.wait)

		// And not much past it.
		fields = consentFields(t, e.get(spaParams(), "user-1"))
		e.clock.Advance(c.ttl + time.Second)
		assertErrorPage(t, e.decide(fields, "user-1", "allow"), http.StatusForbidden, "access_denied")
	}
}

// Only decision=deny is the user's denial: a consent POST with another
// decision, or none (a replacement template that submits the form from
// script, without the button's name), is not told to the client as one.
func TestAuthorizeDecisionOtherThanAllowOrDeny(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	for _, d := range []string{"", "maybe", "Allow", "allow ", "DENY"} {
		fields := consentFields(t, e.get(spaParams(), "user-1"))
		w := e.decide(fields, "user-1", d)
		assertErrorPage(t, w, http.StatusBadRequest, "invalid_request")
		assert.Contains(t, w.Body.String(), "decision", "decision %q", d)

		fields.Del("decision")
		w = e.authorize(azReq{method: http.MethodPost, form: fields, user: "user-1"})
		assertErrorPage(t, w, http.StatusBadRequest, "invalid_request")
	}
	fields := consentFields(t, e.get(spaParams(), "user-1"))
	q := redirected(t, e.decide(fields, "user-1", "deny"), http.StatusSeeOther, "https://spa.example/cb")
	assert.Equal(t, "access_denied", q.Get("error"))
	assert.Equal(t, "st-123", q.Get("state"))
	assert.Empty(t, q.Get("code"))
}

// The consent form approves what its page showed: the scopes and the
// redirect URI as resolved when it was shown. A request without scope gets
// the client's DefaultScopes, and one without redirect_uri its one
// registered URI; when the client changes in between, the form no longer
// approves what the user was shown.
func TestAuthorizeConsentApprovesWhatWasShown(t *testing.T) {
	ctx := context.Background()
	for name, change := range map[string]func(c *storage.Client){
		"wider default scopes":          func(c *storage.Client) { c.DefaultScopes = []string{"read", "write"} },
		"other default scopes, as many": func(c *storage.Client) { c.DefaultScopes = []string{"write"} },
		"other redirect URI":            func(c *storage.Client) { c.RedirectURIs = []string{"https://web.example/other"} },
	} {
		t.Run(name, func(t *testing.T) {
			e := newAuthzEnv(t, nil, nil)
			c, err := e.store.GetClient(ctx, "web")
			require.NoError(t, err)
			c.DefaultScopes = []string{"read"}
			require.NoError(t, e.store.UpdateClient(ctx, c))

			params := url.Values{"response_type": {"code"}, "client_id": {"web"}, "state": {"s"}}
			w := e.get(params, "user-1")
			fields := consentFields(t, w)
			assert.Contains(t, w.Body.String(), `<ul id="scopes"><li>read</li></ul>`)
			assert.Contains(t, w.Body.String(), `https://web.example/cb`)

			c, err = e.store.GetClient(ctx, "web")
			require.NoError(t, err)
			change(c)
			require.NoError(t, e.store.UpdateClient(ctx, c))
			assertErrorPage(t, e.decide(fields, "user-1", "allow"), http.StatusForbidden, "access_denied")

			// Shown again, the page is approved.
			fields = consentFields(t, e.get(params, "user-1"))
			loc := e.decide(fields, "user-1", "allow").Header().Get("Location")
			u, err := url.Parse(loc)
			require.NoError(t, err)
			assert.NotEmpty(t, u.Query().Get("code"), loc)
		})
	}
}

// The form token's expiry is covered by its MAC: an expired form whose
// token was given a later expiry is refused, so a consent page cannot be
// approved for longer than ConsentTTL by editing its token (mutation
// survivor: the expiry left out of the MAC).
func TestAuthorizeConsentTokenExpiryCannotBeMoved(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	fields := consentFields(t, e.get(spaParams(), "user-1"))
	e.clock.Advance(10*time.Minute + time.Second)
	tok, err := base64.RawURLEncoding.DecodeString(fields.Get("consent_token"))
	require.NoError(t, err)
	require.Len(t, tok, 8+32)
	exp := binary.BigEndian.Uint64(tok[:8])
	assert.LessOrEqual(t, int64(exp), e.clock.Now().Unix(), "the form has expired")

	binary.BigEndian.PutUint64(tok[:8], uint64(e.clock.Now().Add(time.Hour).Unix()))
	fields.Set("consent_token", base64.RawURLEncoding.EncodeToString(tok))
	assertErrorPage(t, e.decide(fields, "user-1", "allow"), http.StatusForbidden, "access_denied")
}
