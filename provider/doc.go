// Package provider is the OAuth 2.0 authorization server: the token
// endpoint with the password, refresh_token, client_credentials and
// authorization_code grants (RFC 6749 §4.3, §4.4, §6, §4.1 with PKCE, RFC
// 7636), the authorization, revocation (RFC 7009), introspection (RFC
// 7662) and metadata (RFC 8414) endpoints, client authentication
// (§2.3.1), error responses (§5.2) and the validation of access tokens
// that the bearer policies build on (RFC 6750).
//
// It follows the Security Best Current Practice (RFC 9700): refresh tokens
// rotate on every use and presenting a used one revokes its whole grant
// (§4.14.2); tokens are opaque and stored only as SHA-256 hashes; endpoints
// and the routes the policy package protects refuse plain HTTP unless
// [Config.AllowInsecureHTTP] is set.
//
// A [Provider] depends only on the interfaces of package storage and
// package authcheck; wire it with a backend such as storage/memory:
//
//	p, err := provider.New(provider.Config{
//		Clients: store,
//		Tokens:  store,
//		Users:   users,
//		Scopes:  []string{"read", "write"},
//	})
//	mux.Handle("POST /oauth2/token", p.TokenHandler())
package provider
