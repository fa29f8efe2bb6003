package ginoauth

import (
	"github.com/gin-gonic/gin"
	"github.com/oauth2provider/oauth2provider/policy"
)

// Identity returns who made the request, as a policy run through
// [Middleware] authenticated it, and false when no policy did. It reads
// the identity from c.Request's context, like policy.IdentityFrom.
//
// Code further down that takes a context.Context must get
// c.Request.Context() to find the identity with policy.IdentityFrom, not c
// itself: a *gin.Context looks up such a key in the request's context
// only when the engine's ContextWithFallback is set, and otherwise
// reports no identity, as for an unauthenticated request.
func Identity(c *gin.Context) (policy.Identity, bool) {
	if c == nil || c.Request == nil {
		return policy.Identity{}, false
	}
	return policy.IdentityFrom(c.Request.Context())
}
