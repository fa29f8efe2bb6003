package ginoauth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	ginoauth "github.com/oauth2provider/oauth2provider/contrib/gin"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCookieOrBearer runs the session-cookie policy through the adapter:
// the cookie set at login authenticates, and a cross-origin unsafe
// request is refused before the handler (net/http.CrossOriginProtection
// sees the headers gin received).
func TestCookieOrBearer(t *testing.T) {
	p := newProvider(t)
	s, err := policy.NewSessions(p, policy.SessionConfig{Scopes: []string{"read"}})
	require.NoError(t, err)
	r := gin.New()
	r.POST("/login", gin.WrapH(s.LoginHandler()))
	reached := 0
	r.Any("/me", ginoauth.Middleware(policy.CookieOrBearer(s)), func(c *gin.Context) {
		reached++
		id, _ := ginoauth.Identity(c)
		c.String(http.StatusOK, id.Method+" "+id.UserID)
	})

	form := url.Values{policy.FieldUsername: {"johndoe"}, policy.FieldPassword: {"foobar42"}}
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
	assert.Equal(t, "cookie user-1", rec.Body.String())

	rec = send(http.MethodPost, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	assert.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "cross_origin_request")
	assert.Equal(t, 1, reached, "the handler ran for the refused request")
}
