package ginoauth_test

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	ginoauth "github.com/oauth2provider/oauth2provider/contrib/gin"
	"github.com/oauth2provider/oauth2provider/internal/adaptertest"
	"github.com/oauth2provider/oauth2provider/policy"
)

// TestCookieOrBearer runs the session-cookie policy through the adapter
// (see adaptertest.TestCookieOrBearer): net/http.CrossOriginProtection
// sees the headers gin received.
func TestCookieOrBearer(t *testing.T) {
	adaptertest.TestCookieOrBearer(t, func(s *policy.Sessions) (http.Handler, *int) {
		r := gin.New()
		r.POST("/login", gin.WrapH(s.LoginHandler()))
		reached := new(int)
		r.Any("/me", ginoauth.Middleware(policy.CookieOrBearer(s)), func(c *gin.Context) {
			*reached++
			id, _ := ginoauth.Identity(c)
			c.String(http.StatusOK, id.Method+" "+id.UserID)
		})
		return r, reached
	})
}
