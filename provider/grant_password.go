package provider

import (
	"errors"
	"net/http"
	"strings"

	"github.com/oauth2provider/oauth2provider/storage"
)

// passwordGrant is the resource owner password credentials grant (RFC
// 6749 §4.3). Wrong credentials are invalid_grant, and an unknown user and
// a wrong password give the same answer; a failure of the user database
// is a 503 and never a token. A refresh token is issued when the client
// may use the refresh_token grant.
func (p *Provider) passwordGrant(r *http.Request, c *authenticatedClient, f form) (*tokenResponse, *Error) {
	username, password := f.get(paramUsername), f.get(paramPassword)
	if username == "" || password == "" {
		return nil, errInvalidRequest("username and password are required")
	}
	scopes, e := p.grantScopes(c.Client, f.get(paramScope))
	if e != nil {
		return nil, e
	}
	userID, err := p.authenticateUser(r, c.ID, c.ip, username, password)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, errInvalidGrant("invalid username or password")
	}
	// A copy: username is a view of the request body, which the store
	// would otherwise keep alive as long as the grant.
	return p.issueGrant(r, c, userID, strings.Clone(username), scopes, c.AllowsGrant(storage.GrantRefreshToken))
}
