package policy

import "context"

// Authentication methods recorded in [Identity.Method].
const (
	MethodBearer = "bearer"
	MethodCookie = "cookie"
)

// Identity is who made an authenticated request.
type Identity struct {
	// UserID is the resource owner; empty for a client_credentials token.
	UserID string
	// ClientID is the client the token was issued to; empty
	// (provider.SessionClientID) for a cookie session, which no client
	// holds.
	ClientID string
	// GrantID identifies the grant, e.g. for revoking it at logout.
	GrantID string
	// Scopes are the scopes the token carries (for a cookie session,
	// those of SessionConfig.Scopes it was started with that Scopes still
	// holds). Treat the slice as read-only.
	Scopes []string
	// Method is how the request authenticated: MethodBearer or MethodCookie.
	Method string
}

// ctxKey is the context key of the Identity.
type ctxKey struct{}

// realmKey is the context key of the realm of the policy that put the
// Identity in the context (see identityCtx).
type realmKey struct{}

// identityCtx carries an Identity; one allocation holds both the context
// node and the Identity. realm points to the Bearer realm of the provider
// whose policy authenticated the request, for the challenge of [Require].
// It is nil for an Identity of WithIdentity, which keeps the realm of the
// context it wraps: a middleware behind a policy that narrows the
// Identity does not change who authenticated the request. (A pointer
// keeps the node in the 112-byte size class: a string would take it to
// 128.)
type identityCtx struct {
	context.Context
	id    Identity
	realm *string
}

func (c *identityCtx) Value(key any) any {
	switch key.(type) {
	case ctxKey:
		return &c.id
	case realmKey:
		if c.realm != nil {
			return *c.realm
		}
	}
	return c.Context.Value(key)
}

// WithIdentity returns a copy of ctx that carries id: for a policy of your
// own, a middleware that narrows the Identity a policy put there, or a
// test of a handler behind a policy. [Require]'s challenge keeps the realm
// of the policy that authenticated ctx, if one did.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return &identityCtx{Context: ctx, id: id}
}

// IdentityFrom returns the Identity of the authenticated request whose
// context is ctx, and false when no policy authenticated it.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	if id, ok := ctx.Value(ctxKey{}).(*Identity); ok {
		return *id, true
	}
	return Identity{}, false
}
