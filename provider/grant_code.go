package provider

import (
	"errors"
	"net/http"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// authorizationCodeGrant is the authorization code grant at the token
// endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5-4.6). The code is consumed
// atomically, so of concurrent exchanges exactly one wins; it must have
// been issued to the authenticated client, and the request must repeat the
// authorization request's redirect_uri and, when a code_challenge was
// sent, carry the matching code_verifier (compared in constant time). A
// code_verifier for a code issued without a challenge is refused (PKCE
// downgrade, RFC 9700 §2.1.1). A refused request consumes nothing.
// Presenting a code that was already exchanged, within the code's
// lifetime, revokes the grant and so every token issued from the code
// (RFC 6749 §4.1.2); the store keeps a consumed code only that long, so
// later it is refused as expired and revokes nothing. A refresh token is
// issued when the client may use the refresh_token grant. With binding on
// (Config.BindingKey), the exchange binds the grant, atomically with it,
// to the fingerprint of this token request: the client that holds the
// tokens, not the browser the code was issued to; a store that returns
// the grant not bound so (one that ignores storage.Exchange.Bind) gets
// the grant revoked and the request a 503.
func (p *Provider) authorizationCodeGrant(r *http.Request, c *authenticatedClient, f form) (*tokenResponse, *Error) {
	raw := f.get(paramCode)
	if raw == "" {
		return nil, errInvalidRequest("missing code")
	}
	verifier := f.get(paramCodeVerifier)
	if verifier != "" && !validPKCEString(verifier) {
		return nil, errInvalidRequest("malformed code_verifier")
	}
	redirectURI := f.get(paramRedirectURI)
	ref, err := token.Parse(storage.KindCode, raw)
	if err != nil {
		return nil, errInvalidGrant("invalid authorization code")
	}

	now := p.now()
	out, issue, e := p.mintExchange(ref.GrantID, now, nil, c.AllowsGrant(storage.GrantRefreshToken))
	if e != nil {
		return nil, e
	}
	if err := r.Context().Err(); err != nil { // the client is gone: consume nothing
		return nil, errUnavailable(err)
	}
	bind := p.fingerprint(r, c.ip) // "" when binding is off
	g, err := p.cfg.Tokens.ExchangeToken(r.Context(), storage.Exchange{
		Kind:      storage.KindCode,
		Presented: ref,
		ClientID:  c.ID,
		Check: func(g *storage.Grant) error {
			if g.ClientID != c.ID || g.Code == nil || !now.Before(g.ExpiresAt) {
				return errInvalidGrant("invalid authorization code")
			}
			return checkCodeBinding(g.Code, c, redirectURI, verifier)
		},
		Issue: issue,
		Bind:  bind,
	})
	if err != nil {
		if e, ok := errors.AsType[*Error](err); ok {
			return nil, e
		}
		if errors.Is(err, storage.ErrTokenReused) {
			p.emit(r.Context(), Event{Type: EventCodeReuse, ClientID: c.ID,
				UserID: reusedUser(err, ref.GrantID, c.ID), GrantID: ref.GrantID,
				IP: c.ip, Reason: "consumed authorization code presented again; grant revoked"})
		}
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrTokenReused) {
			return nil, errInvalidGrant("invalid authorization code")
		}
		return nil, errUnavailable(err)
	}
	if g.Binding != bind {
		// The store ignored Exchange.Bind (one written before it): the
		// tokens would work from anywhere. Fail closed, as a store
		// outage does, and end the grant rather than hand them out.
		_ = p.revokeDetached(r.Context(), g.ID)
		return nil, errUnavailable(errBindIgnored)
	}
	resp := &out.resp
	resp.Scope = formatScope(g.Scopes)
	resp.UserID = g.UserID
	return resp, nil
}

// errBindIgnored is the cause of the 503 answering a code exchange whose
// store returned the grant unbound although binding is on.
var errBindIgnored = errors.New("provider: the token store did not bind the grant (storage.Exchange.Bind)")

// checkCodeBinding checks a token request against what its code is bound
// to: the redirect_uri, repeated exactly when the authorization request
// had one (RFC 6749 §4.1.3), and the PKCE verifier (RFC 7636 §4.6).
func checkCodeBinding(b *storage.CodeBinding, c *authenticatedClient, redirectURI, verifier string) error {
	if redirectURI != b.RedirectURI {
		if b.RedirectURI == "" {
			return errInvalidGrant("redirect_uri was not part of the authorization request")
		}
		return errInvalidGrant("redirect_uri does not match the authorization request")
	}
	switch {
	case b.Challenge == "" && verifier != "":
		return errInvalidGrant("code_verifier sent for a code issued without code_challenge")
	case b.Challenge == "" && c.Public:
		return errInvalidGrant("invalid authorization code") // cannot be issued; refuse anyway
	case b.Challenge == "":
		return nil
	case verifier == "":
		return errInvalidGrant("missing code_verifier")
	case !verifyPKCE(b.ChallengeMethod, b.Challenge, verifier):
		return errInvalidGrant("code_verifier does not match the code_challenge")
	}
	return nil
}
