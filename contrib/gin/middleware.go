package ginoauth

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Middleware adapts net/http middleware, such as policy.Bearer(p),
// policy.CookieOrBearer(s) or policy.Require("write"), to a gin handler.
//
// The policy sees the gin request and response writer. When it lets the
// request through, the request it passes on (whose context carries the
// policy.Identity) becomes c.Request and the rest of the gin chain runs;
// when it answers itself (401, 403, 503, ...), the chain is aborted and
// its answer stands, as it is when the policy recovers a panic of the
// handlers after it. The policy must write to the ResponseWriter it was
// given: a writer it wraps and passes on is not used by the gin handlers
// after it.
//
// Middleware panics if policy is nil.
func Middleware(policy func(http.Handler) http.Handler) gin.HandlerFunc {
	if policy == nil {
		panic("ginoauth: Middleware needs a policy")
	}
	return func(c *gin.Context) {
		// done is set once the rest of the chain has returned: a policy
		// that answered itself, or recovered a panic of the chain (its
		// own or a later handler's), returns without it, and gin's loop
		// must not go on to the handlers after the one that stopped.
		done := false
		next := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			c.Request = r
			c.Next()
			done = true
		})
		policy(next).ServeHTTP(c.Writer, c.Request)
		if !done {
			c.Abort()
		}
	}
}
