package provider_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/provider"
)

// The consent form's POST must be same-origin. A browser that sends no
// Sec-Fetch-Site (Safari before 16.4) is judged by its Origin, which
// net/http.CrossOriginProtection compares with Host by host alone: a
// page of http://auth.example.com, the same host in plain HTTP that a
// network attacker can serve, is another origin than the endpoint's
// https://auth.example.com and is refused, as the policy package's
// login, logout and Cookie refuse it. Over plain HTTP (allowed for
// development) that Origin is the endpoint's own.
func TestAuthorizeConsentRefusesPlainHTTPOrigin(t *testing.T) {
	e := newAuthzEnv(t, nil, nil)
	for _, origin := range []string{"http://auth.example.com", "HTTP://auth.example.com"} {
		fields := consentFields(t, e.get(spaParams(), "user-1"))
		fields.Set("decision", "allow")
		w := e.authorize(azReq{method: http.MethodPost, form: fields, user: "user-1",
			header: http.Header{"Origin": {origin}}})
		assertErrorPage(t, w, http.StatusForbidden, "access_denied")
		assert.Contains(t, w.Body.String(), "cross-origin request refused", origin)

		// The browser's Sec-Fetch-Site, when it sends one, is what counts.
		w = e.authorize(azReq{method: http.MethodPost, form: fields, user: "user-1",
			header: http.Header{"Origin": {origin}, "Sec-Fetch-Site": {"same-origin"}}})
		q := redirected(t, w, http.StatusSeeOther, "https://spa.example/cb")
		assert.NotEmpty(t, q.Get("code"), origin)
	}

	plain := newAuthzEnv(t, func(c *provider.Config) { c.AllowInsecureHTTP = true }, nil)
	fields := consentFields(t, plain.authorize(azReq{query: spaParams().Encode(), user: "user-1", plain: true}))
	fields.Set("decision", "allow")
	w := plain.authorize(azReq{method: http.MethodPost, form: fields, user: "user-1", plain: true,
		header: http.Header{"Origin": {"http://auth.example.com"}}})
	q := redirected(t, w, http.StatusSeeOther, "https://spa.example/cb")
	assert.NotEmpty(t, q.Get("code"), "plain HTTP: the http:// origin is the endpoint's own")
}
