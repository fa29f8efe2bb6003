package echooauth

import (
	"github.com/labstack/echo/v4"
	"github.com/oauth2provider/oauth2provider/policy"
)

// Identity returns who made the request, as a policy run through
// [Middleware] authenticated it, and false when no policy did. It reads
// the identity from c.Request()'s context, like policy.IdentityFrom.
func Identity(c echo.Context) (policy.Identity, bool) {
	if c == nil || c.Request() == nil {
		return policy.Identity{}, false
	}
	return policy.IdentityFrom(c.Request().Context())
}
