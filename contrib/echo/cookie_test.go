package echooauth_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
	echooauth "github.com/oauth2provider/oauth2provider/contrib/echo"
	"github.com/oauth2provider/oauth2provider/internal/adaptertest"
	"github.com/oauth2provider/oauth2provider/policy"
)

// TestCookieOrBearer runs the session-cookie policy through the adapter
// (see adaptertest.TestCookieOrBearer): net/http.CrossOriginProtection
// sees the headers Echo received.
func TestCookieOrBearer(t *testing.T) {
	adaptertest.TestCookieOrBearer(t, func(s *policy.Sessions) (http.Handler, *int) {
		r := echo.New()
		r.POST("/login", echo.WrapHandler(s.LoginHandler()))
		reached := new(int)
		r.Any("/me", func(c echo.Context) error {
			*reached++
			id, _ := echooauth.Identity(c)
			return c.String(http.StatusOK, id.Method+" "+id.UserID)
		}, echooauth.Middleware(policy.CookieOrBearer(s)))
		return r, reached
	})
}
