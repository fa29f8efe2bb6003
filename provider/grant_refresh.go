package provider

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// errBindingMismatch is the Check error of a refresh from another user
// agent than the grant is bound to.
var errBindingMismatch = errors.New("provider: binding mismatch")

// refreshGrant is the refresh token grant (RFC 6749 §6) with rotation
// (RFC 9700 §4.14.2): the presented refresh token is consumed and a new
// access and refresh token of the same grant are issued, atomically in the
// store. The request may narrow the scope for the new access token, never
// widen it; the new refresh token keeps the grant's scope. An optional
// user_id (the Pyramid seed's parameter) must be the grant's user. A token
// of another client, a wrong user_id or a bad scope consume nothing.
// Presenting a consumed refresh token revokes the whole grant, unless
// within Config.RefreshReuseGrace of its first use.
func (p *Provider) refreshGrant(r *http.Request, c *authenticatedClient, f form) (*tokenResponse, *Error) {
	raw := f.get(paramRefreshToken)
	if raw == "" {
		return nil, errInvalidRequest("missing refresh_token")
	}
	ref, err := token.Parse(storage.KindRefresh, raw)
	if err != nil {
		return nil, errInvalidGrant("invalid refresh token")
	}
	// One copy of the scope parameter, which is a view of the body: the
	// store keeps the requested scopes, views of the copy.
	requested, e := parseScope(strings.Clone(f.get(paramScope)))
	if e != nil {
		return nil, e
	}
	userID := f.get(paramUserID)

	now := p.now()
	out, issue, e := p.mintExchange(ref.GrantID, now, requested, true)
	if e != nil {
		return nil, e
	}
	if err := r.Context().Err(); err != nil { // the client is gone: consume nothing
		return nil, errUnavailable(err)
	}
	x := storage.Exchange{
		Kind:       storage.KindRefresh,
		Presented:  ref,
		ClientID:   c.ID, // the store refuses a grant of another client
		Issue:      issue,
		ReuseGrace: p.cfg.RefreshReuseGrace,
	}
	// A plain refresh needs no check beyond the client, which the store
	// makes: leaving Check out lets a remote store exchange in one round
	// trip. A user_id, a narrowed scope or a binding is checked atomically
	// with the exchange, so that a wrong one consumes nothing.
	// mismatched is the bound grant r may not use, set by Check; a
	// pointer to it, so that a plain refresh does not allocate it.
	var mismatched **storage.Grant
	if userID != "" || len(requested) > 0 || p.cfg.BindingKey != nil {
		mismatched = new(*storage.Grant)
		x.Check = func(g *storage.Grant) error {
			// The binding first: a token presented from another user
			// agent ends its grant whatever else the request says, and
			// its holder learns nothing from user_id or scope errors.
			if !p.bindingMatches(r, c.ip, g) {
				*mismatched = g
				return errBindingMismatch
			}
			if userID != "" && subtle.ConstantTimeCompare([]byte(userID), []byte(g.UserID)) != 1 {
				return errInvalidGrant("user_id does not match the refresh token")
			}
			if e := checkNarrowing(requested, g.Scopes); e != nil {
				return e
			}
			return nil
		}
	}
	g, err := p.cfg.Tokens.ExchangeToken(r.Context(), x)
	if err != nil {
		if errors.Is(err, errBindingMismatch) && mismatched != nil && *mismatched != nil {
			// A refresh token presented from another user agent than
			// its grant is bound to ends the grant, as a bound access
			// token does; it is refused even if the revocation failed.
			_ = p.bindingMismatch(r.Context(), c.ip, *mismatched)
			return nil, errInvalidGrant("invalid refresh token")
		}
		if e, ok := errors.AsType[*Error](err); ok {
			return nil, e
		}
		if errors.Is(err, storage.ErrTokenReused) {
			p.emit(r.Context(), Event{Type: EventRefreshReuse, ClientID: c.ID,
				UserID: reusedUser(err, ref.GrantID, c.ID), GrantID: ref.GrantID,
				IP: c.ip, Reason: "consumed refresh token presented again; grant revoked"})
		}
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrTokenReused) {
			return nil, errInvalidGrant("invalid refresh token")
		}
		return nil, errUnavailable(err)
	}
	scopes := requested
	if len(scopes) == 0 {
		scopes = g.Scopes
	}
	resp := &out.resp
	resp.Scope = formatScope(scopes)
	resp.UserID = g.UserID
	return resp, nil
}
