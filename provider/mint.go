package provider

import (
	"net/http"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// tokenResponse is a successful token response (RFC 6749 §5.1), plus the
// Pyramid seed's user_id.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	UserID       string `json:"user_id,omitempty"`
	// grantID is the grant the tokens belong to, for the token_issued
	// event; not part of the response.
	grantID string
}

// minted is a new token with its stored record.
type minted struct {
	raw    string
	record storage.Token
}

// mint makes a new token of kind k for grant grantID, valid for ttl from
// now, with scopes narrowing the grant's (nil: the grant's).
func mint(k storage.TokenKind, grantID string, now time.Time, ttl time.Duration, scopes []string) (minted, error) {
	raw, ref, err := token.New(k, grantID)
	if err != nil {
		return minted{}, err
	}
	return minted{raw: raw, record: storage.Token{
		Hash:      ref.Hash,
		Kind:      k,
		GrantID:   grantID,
		Scopes:    scopes,
		IssuedAt:  now,
		ExpiresAt: now.Add(ttl),
	}}, nil
}

// issueGrant makes a new grant of client for user (empty for
// client_credentials; username is the name they signed in with, kept for
// introspection) with scopes, and its first access token and, when
// withRefresh is set, refresh token, bound to r's fingerprint when binding
// is on; it stores them all or nothing and returns the token response.
func (p *Provider) issueGrant(r *http.Request, clientID, userID, username string, scopes []string, withRefresh bool) (*tokenResponse, *Error) {
	ctx := r.Context()
	now := p.now()
	grantID, err := token.NewGrantID()
	if err != nil {
		return nil, errUnavailable(err)
	}
	access, err := mint(storage.KindAccess, grantID, now, p.cfg.AccessTokenTTL, nil)
	if err != nil {
		return nil, errUnavailable(err)
	}
	g := &storage.Grant{
		ID:        grantID,
		ClientID:  clientID,
		UserID:    userID,
		Username:  username,
		Scopes:    scopes,
		Binding:   p.Fingerprint(r), // "" when binding is off
		CreatedAt: now,
		ExpiresAt: access.record.ExpiresAt,
	}
	records := append(make([]storage.Token, 0, 2), access.record)
	resp := &tokenResponse{
		AccessToken: access.raw,
		TokenType:   "Bearer",
		ExpiresIn:   int64(p.cfg.AccessTokenTTL / time.Second),
		Scope:       formatScope(scopes),
		UserID:      userID,
		grantID:     grantID,
	}
	if withRefresh {
		refresh, err := mint(storage.KindRefresh, grantID, now, p.cfg.RefreshTokenTTL, nil)
		if err != nil {
			return nil, errUnavailable(err)
		}
		records = append(records, refresh.record)
		resp.RefreshToken = refresh.raw
		if refresh.record.ExpiresAt.After(g.ExpiresAt) {
			g.ExpiresAt = refresh.record.ExpiresAt
		}
	}
	if err := ctx.Err(); err != nil { // the client is gone: issue nothing
		return nil, errUnavailable(err)
	}
	if err := p.cfg.Tokens.CreateGrant(ctx, g, records...); err != nil {
		// ErrAlreadyExists would be a 128-bit collision: no client error
		// either, so every failure here is the server's.
		return nil, errUnavailable(err)
	}
	return resp, nil
}
