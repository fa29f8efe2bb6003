package provider

import (
	"errors"
	"fmt"
	"net/http"
	"time"

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

// ValidateAccessTokenInto is [Provider.ValidateAccessToken] writing the
// token and its grant into dst, which it overwrites, so that a caller
// validating a token on every request can keep dst in memory it allocates
// anyway (middleware puts it in the request's context node). When the
// token store is a [storage.TokenInfoFiller] this costs no allocation, and
// then dst's Scopes and Grant.Code may be the store's own: they must not be
// modified; copy them before handing them on to code that might. After an
// error dst's content is unspecified.
func (p *Provider) ValidateAccessTokenInto(r *http.Request, raw string, dst *storage.TokenInfo) error {
	ref, err := token.Parse(storage.KindAccess, raw)
	if err != nil {
		return ErrInvalidToken
	}
	now := p.checkNow()
	if p.filler != nil {
		err = p.filler.LookupTokenInto(r.Context(), storage.KindAccess, ref, now, dst)
	} else {
		var ti *storage.TokenInfo
		if ti, err = p.cfg.Tokens.LookupToken(r.Context(), storage.KindAccess, ref); err == nil {
			*dst = *ti
		}
	}
	return p.checkFound(r, storage.KindAccess, ref, dst, err, now)
}

// validateToken is ValidateAccessToken for a token of kind k.
func (p *Provider) validateToken(r *http.Request, k storage.TokenKind, raw string) (*storage.TokenInfo, error) {
	ref, err := token.Parse(k, raw)
	if err != nil {
		return nil, ErrInvalidToken
	}
	ti, err := p.cfg.Tokens.LookupToken(r.Context(), k, ref)
	if err := p.checkFound(r, k, ref, ti, err, p.checkNow()); err != nil {
		return nil, err
	}
	return ti, nil
}

// checkFound judges the result of looking up the token of kind k that ref
// names: ti and err as the store returned them, judged at now.
func (p *Provider) checkFound(r *http.Request, k storage.TokenKind, ref storage.TokenRef, ti *storage.TokenInfo, err error, now time.Time) error {
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return ErrInvalidToken
		}
		return fmt.Errorf("provider: look up %s token: %w", k, err)
	}
	// LookupToken judges expiry by the store's clock (LookupTokenInto
	// by ours, a remote store by its server's as well): judge it by ours.
	if !now.Before(ti.Token.ExpiresAt) || ti.Grant.ID != ref.GrantID {
		return ErrInvalidToken
	}
	return p.checkBinding(r.Context(), r, &ti.Grant)
}
