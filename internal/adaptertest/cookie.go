package adaptertest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCookieOrBearer checks an adapter's Middleware running the
// session-cookie policy: the cookie set at login authenticates, and a
// cross-origin unsafe request is refused before the handler
// (net/http.CrossOriginProtection sees the headers the framework
// received). newRouter returns the framework's router serving POST
// /login with s.LoginHandler() and /me, for every method, behind the
// adapter's Middleware running policy.CookieOrBearer(s); the /me handler
// counts in *reached and answers 200 with the text "<method> <user ID>"
// from the adapter's Identity.
func TestCookieOrBearer(t *testing.T, newRouter func(s *policy.Sessions) (r http.Handler, reached *int)) {
	s, err := policy.NewSessions(providertest.NewProvider(t), policy.SessionConfig{Scopes: []string{"read"}})
	require.NoError(t, err)
	r, reached := newRouter(s)

	form := url.Values{policy.FieldUsername: {providertest.Username}, policy.FieldPassword: {providertest.Password}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	cookies := rec.Result().Cookies()
	require.NotEmpty(t, cookies)

	send := func(method string, header http.Header) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/me", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec
	}
	rec = send(http.MethodGet, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "cookie "+providertest.UserID, rec.Body.String())

	rec = send(http.MethodPost, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	assert.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "cross_origin_request")
	assert.Equal(t, 1, *reached, "the handler ran for the refused request")

	t.Run("a cookie sent over plain HTTP is refused where HTTPS is required", func(t *testing.T) {
		store := memory.New(memory.Config{})
		p := providertest.NewProviderOn(t, store, store, func(c *provider.Config) { c.AllowInsecureHTTP = false })
		s, err := policy.NewSessions(p, policy.SessionConfig{Scopes: []string{"read"}})
		require.NoError(t, err)
		r, reached := newRouter(s)
		req := httptest.NewRequest(http.MethodPost, "https://app.example/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		cookies := rec.Result().Cookies()
		require.NotEmpty(t, cookies)

		for _, u := range []string{"http://app.example/me", "https://app.example/me"} {
			req := httptest.NewRequest(http.MethodGet, u, nil)
			for _, c := range cookies {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if req.TLS == nil {
				assert.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
				assert.Contains(t, rec.Body.String(), "invalid_request")
				assert.Zero(t, *reached, "the handler ran for a cookie sent in the clear")
			} else {
				assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			}
		}
	})
}
