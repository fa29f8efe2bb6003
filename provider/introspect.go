package provider

import (
	"net/http"

	"github.com/oauth2provider/oauth2provider/storage"
)

// introspection is an RFC 7662 §2.2 response. Inactive tokens are
// answered with only active: false.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Username  string `json:"username,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Iss       string `json:"iss,omitempty"`
}

// IntrospectHandler returns the token introspection endpoint (RFC 7662);
// mount it at POST /oauth2/introspect. The caller must authenticate as a
// confidential client (client_secret_basic or client_secret_post);
// anything else is 401 invalid_client. Any confidential client may
// introspect any access token, of any client: resource servers introspect
// the tokens that other clients present to them, and a caller learns only
// about a token it already holds. A refresh token is introspected only by
// the client it was issued to, and is {"active":false} to any other (RFC
// 7662 §4): refresh tokens go to the authorization server alone, so no
// resource server needs to, and a client holding another's refresh token
// should not learn the user behind it.
//
// A live access or refresh token is answered with active: true, scope,
// client_id, sub (the user ID; left out for client_credentials), token_type
// ("Bearer" for an access token; left out for a refresh token, which has
// no access token type), exp, iat, iss (Config.Issuer, left out when
// empty) and username when the grant has one (the name the user signed in
// with at the password grant; the other grants know users by ID only). Any
// other token
// (unknown, malformed, expired, revoked, consumed) is exactly
// {"active":false}. token_type_hint only orders the lookup. A missing
// token is 400 invalid_request; a store outage is 503. Every response
// carries Cache-Control: no-store.
func (p *Provider) IntrospectHandler() http.Handler { return http.HandlerFunc(p.serveIntrospect) }

func (p *Provider) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	resp, e := p.introspect(w, r)
	if e != nil {
		p.writeError(w, r, e)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) (*introspection, *Error) {
	f, e := p.endpointRequest(w, r, "introspection")
	if e != nil {
		return nil, e
	}
	c, e := p.authenticateClient(r, f, "")
	if e != nil {
		return nil, e
	}
	if !c.confidential() {
		return nil, p.errInvalidClient(c.basic, "the introspection endpoint requires client authentication with a secret")
	}
	raw := f.get(paramToken)
	if raw == "" {
		return nil, errInvalidRequest("missing token")
	}
	ti, err := p.findToken(r.Context(), raw, f.get(paramTokenHint))
	if err != nil {
		return nil, errUnavailable(err)
	}
	if ti == nil || (ti.Token.Kind == storage.KindRefresh && ti.Grant.ClientID != c.ID) {
		return &introspection{Active: false}, nil
	}
	resp := &introspection{
		Active:    true,
		Scope:     formatScope(ti.EffectiveScopes()),
		ClientID:  ti.Grant.ClientID,
		Sub:       ti.Grant.UserID,
		Username:  ti.Grant.Username,
		TokenType: "Bearer",
		Exp:       ti.Token.ExpiresAt.Unix(),
		Iat:       ti.Token.IssuedAt.Unix(),
		Iss:       p.cfg.Issuer,
	}
	if ti.Token.Kind == storage.KindRefresh {
		// token_type names an access token type (RFC 7662 §2.2, RFC 6749
		// §7.1); a refresh token has none.
		resp.TokenType = ""
	}
	return resp, nil
}
