package provider

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// ValidateAccessToken checks the access token raw presented with r and
// returns it with its grant. A malformed token is refused without a store
// lookup; a well-formed one costs one store lookup (disabling a client
// with [Provider.DisableClient] revokes its grants, so validation need not
// read the client). A malformed, unknown, expired or revoked token is
// [ErrInvalidToken]; any other error is a
// failure of a store (or r's cancelled context), which the caller answers
// with 503. The returned TokenInfo is the caller's.
//
// When the grant is bound (Config.BindingKey) and r comes from another
// client IP or User-Agent, the grant is revoked and the token is
// [ErrInvalidToken].
func (p *Provider) ValidateAccessToken(r *http.Request, raw string) (*storage.TokenInfo, error) {
	return p.validateToken(r, storage.KindAccess, raw)
}

// validateToken is ValidateAccessToken for a token of kind k.
func (p *Provider) validateToken(r *http.Request, k storage.TokenKind, raw string) (*storage.TokenInfo, error) {
	ref, err := token.Parse(k, raw)
	if err != nil {
		return nil, ErrInvalidToken
	}
	ctx := r.Context()
	ti, err := p.cfg.Tokens.LookupToken(ctx, k, ref)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, ErrInvalidToken
		}
		return nil, fmt.Errorf("provider: look up %s token: %w", k, err)
	}
	// The store judges expiry by its clock; judge it by ours too.
	if !p.now().Before(ti.Token.ExpiresAt) || ti.Grant.ID != ref.GrantID {
		return nil, ErrInvalidToken
	}
	if err := p.checkBinding(ctx, r, &ti.Grant); err != nil {
		return nil, err
	}
	return ti, nil
}
