package echooauth

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Middleware adapts net/http middleware, such as policy.Bearer(p),
// policy.CookieOrBearer(s) or policy.Require("write"), to Echo
// middleware.
//
// The policy sees the Echo request and response. When it lets the
// request through, the request it passes on (whose context carries the
// policy.Identity) is set on the Echo context and the next handler runs;
// its error is returned. When the policy answers itself (401, 403, 503,
// ...), the next handler does not run, the answer stands and the
// middleware returns nil. The policy must write to the ResponseWriter it
// was given: a writer it wraps and passes on is not used by the Echo
// handlers after it.
//
// Middleware panics if policy is nil.
func Middleware(policy func(http.Handler) http.Handler) echo.MiddlewareFunc {
	if policy == nil {
		panic("echooauth: Middleware needs a policy")
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			var err error
			h := policy(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				c.SetRequest(r)
				err = next(c)
			}))
			h.ServeHTTP(c.Response(), c.Request())
			return err
		}
	}
}
