// Package ginoauth adapts oauth2provider to the gin web framework: the
// net/http policies of package policy as gin middleware ([Middleware]),
// the authenticated identity as a getter on the gin context ([Identity]),
// and the provider's endpoints (RFC 6749 token, RFC 7009 revocation,
// RFC 7662 introspection, RFC 8414 metadata) mounted in one call
// ([Mount]).
//
// It is its own Go module, so that the core module does not depend on gin:
//
//	go get github.com/oauth2provider/oauth2provider/contrib/gin
//
// A typical set-up:
//
//	r := gin.New()
//	ginoauth.Mount(r, p, ginoauth.Paths{})
//	api := r.Group("/api", ginoauth.Middleware(policy.Bearer(p)))
//	api.GET("/me", func(c *gin.Context) {
//		id, _ := ginoauth.Identity(c)
//		c.JSON(http.StatusOK, gin.H{"user_id": id.UserID})
//	})
//	api.POST("/notes", ginoauth.Middleware(policy.Require("write")), createNote)
package ginoauth
