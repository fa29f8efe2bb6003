// Package policy authenticates requests to an app's own routes with the
// tokens of a provider.Provider, as net/http middleware of the shape
// func(http.Handler) http.Handler.
//
//   - [Bearer]: an access token in the Authorization header (RFC 6750 §2.1).
//   - [Cookie]: a browser session cookie of [Sessions], backed by the same
//     TokenStore as the tokens, so logout and revocation end it too;
//     unsafe methods pass net/http.CrossOriginProtection.
//   - [CookieOrBearer]: bearer when an Authorization header is present,
//     the cookie otherwise.
//   - [Require]: scopes the authenticated identity must carry (RFC 6750
//     §3.1 insufficient_scope); [Chain] composes it with a policy.
//
// [Sessions.LoginHandler] and [Sessions.LogoutHandler] start and end
// sessions. Handlers read who called with [IdentityFrom]. docs/policies.md
// says which policy suits which app.
package policy
