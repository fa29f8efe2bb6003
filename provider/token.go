package provider

import (
	"net/http"

	"github.com/oauth2provider/oauth2provider/storage"
)

// TokenHandler returns the token endpoint (RFC 6749 §3.2); mount it at
// POST /oauth2/token. It serves the password (when Config.Users is set),
// refresh_token, client_credentials and authorization_code grants to
// authenticated clients, answers errors as
// RFC 6749 §5.2 JSON and sets Cache-Control: no-store and Pragma: no-cache
// on every response.
func (p *Provider) TokenHandler() http.Handler {
	return http.HandlerFunc(p.serveToken)
}

// grantFunc runs one grant type for an authenticated client.
type grantFunc func(r *http.Request, c *authenticatedClient, f form) (*tokenResponse, *Error)

func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	resp, e := p.token(w, r)
	if e != nil {
		p.writeError(w, r, e)
		return
	}
	writeTokenResponse(w, resp)
}

// token checks the request in the order: method, transport, body, grant
// type, client, grant; the cheap checks come before any store lookup.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) (*tokenResponse, *Error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, &Error{Code: CodeInvalidRequest, Description: "the token endpoint accepts POST only", Status: http.StatusMethodNotAllowed}
	}
	if !p.SecureEnough(r) {
		return nil, errInvalidRequest("HTTPS is required")
	}
	f, e := p.parseForm(w, r)
	if e != nil {
		return nil, e
	}
	gt := f.get(paramGrantType)
	var grant grantFunc
	switch gt {
	case "":
		return nil, errInvalidRequest("missing grant_type")
	case storage.GrantPassword:
		if p.cfg.Users != nil {
			grant = p.passwordGrant
		}
	case storage.GrantRefreshToken:
		grant = p.refreshGrant
	case storage.GrantClientCredentials:
		grant = p.clientCredentialsGrant
	case storage.GrantAuthorizationCode:
		grant = p.authorizationCodeGrant
	}
	if grant == nil {
		return nil, &Error{Code: CodeUnsupportedGrantType, Description: "unsupported grant_type", Status: http.StatusBadRequest}
	}
	exchange := "" // the grants whose client may come from the cache
	if gt == storage.GrantRefreshToken || gt == storage.GrantAuthorizationCode {
		exchange = gt
	}
	c, e := p.authenticateClient(r, f, exchange)
	if e != nil {
		return nil, e
	}
	if !c.AllowsGrant(gt) {
		return nil, errUnauthorizedClient("the client may not use this grant type")
	}
	resp, e := grant(r, c, f)
	if e == nil {
		p.emitIssued(r.Context(), c, gt, resp)
	}
	return resp, e
}
