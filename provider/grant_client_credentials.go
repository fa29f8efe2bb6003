package provider

import "net/http"

// clientCredentialsGrant is the client credentials grant (RFC 6749 §4.4):
// a confidential client gets an access token for itself, without a
// refresh token (§4.4.3) or a user. A public client, which cannot
// authenticate, is invalid_client.
func (p *Provider) clientCredentialsGrant(r *http.Request, c *authenticatedClient, f form) (*tokenResponse, *Error) {
	if !c.confidential() {
		return nil, p.errInvalidClient(c.basic, "client_credentials requires client authentication with a secret")
	}
	scopes, e := p.grantScopes(c.Client, f.get(paramScope))
	if e != nil {
		return nil, e
	}
	return p.issueGrant(r, c, "", "", scopes, false)
}
