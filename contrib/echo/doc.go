// Package echooauth adapts oauth2provider to the Echo web framework (v4):
// the net/http policies of package policy as Echo middleware
// ([Middleware]), the authenticated identity as a getter on the Echo
// context ([Identity]), and the provider's endpoints (RFC 6749 token,
// RFC 7009 revocation, RFC 7662 introspection, RFC 8414 metadata)
// mounted in one call ([Mount]).
//
// It is its own Go module, so that the core module does not depend on
// Echo:
//
//	go get github.com/oauth2provider/oauth2provider/contrib/echo
//
// A typical set-up:
//
//	e := echo.New()
//	echooauth.Mount(e, p, echooauth.Paths{})
//	api := e.Group("/api", echooauth.Middleware(policy.Bearer(p)))
//	api.GET("/me", func(c echo.Context) error {
//		id, _ := echooauth.Identity(c)
//		return c.JSON(http.StatusOK, map[string]string{"user_id": id.UserID})
//	})
//	api.POST("/notes", createNote, echooauth.Middleware(policy.Require("write")))
package echooauth
