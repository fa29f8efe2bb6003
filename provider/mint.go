package provider

import (
	"crypto/rand"
	"math"
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
	// grantID is the grant the tokens belong to, and issuedAt when they
	// were minted (the provider's clock), for the token_issued event;
	// not part of the response.
	grantID  string
	issuedAt time.Time
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
	return newMinted(k, raw, ref, now, ttl, scopes), nil
}

// mintFrom is mint with the token's random bits given (see
// [token.NewFrom]).
func mintFrom(k storage.TokenKind, grantID string, random *[32]byte, now time.Time, ttl time.Duration, scopes []string) (minted, error) {
	raw, ref, err := token.NewFrom(k, grantID, random)
	if err != nil {
		return minted{}, err
	}
	return newMinted(k, raw, ref, now, ttl, scopes), nil
}

// randomBits is the randomness of a grant ID and two tokens, read from
// crypto/rand in one call, which costs about as much as one small read.
type randomBits [16 + 32 + 32]byte

// read fills r from crypto/rand.
func (r *randomBits) read() error {
	_, err := rand.Read(r[:])
	return err
}

// readTokens fills the parts of r for two tokens from crypto/rand, for
// an exchange, which makes no grant ID.
func (r *randomBits) readTokens() error {
	_, err := rand.Read(r[16:])
	return err
}

// grantID, access and refresh are the disjoint parts of r for a grant ID,
// an access token and a refresh token.
func (r *randomBits) grantID() *[16]byte { return (*[16]byte)(r[:16]) }
func (r *randomBits) access() *[32]byte  { return (*[32]byte)(r[16:48]) }
func (r *randomBits) refresh() *[32]byte { return (*[32]byte)(r[48:]) }

// newMinted is the token raw of kind k, found by ref, with its record.
func newMinted(k storage.TokenKind, raw string, ref storage.TokenRef, now time.Time, ttl time.Duration, scopes []string) minted {
	return minted{raw: raw, record: storage.Token{
		Hash:      ref.Hash,
		Kind:      k,
		GrantID:   ref.GrantID,
		Scopes:    scopes,
		IssuedAt:  now,
		ExpiresAt: capExpiry(now.Add(ttl)),
	}}
}

// maxExpiry is the latest expiry the provider writes: the last instant
// Unix nanoseconds hold (2262-04-11), which the memory and Redis stores
// keep times in and refuse times after. A lifetime that reaches past it
// (a TTL of a few centuries, time.Duration's maximum for "never") ends
// there instead of failing every grant as a store outage.
var maxExpiry = time.Unix(0, math.MaxInt64).UTC()

// capExpiry returns t, or maxExpiry when t is later.
func capExpiry(t time.Time) time.Time {
	if t.After(maxExpiry) {
		return maxExpiry
	}
	return t
}

// issued is what issueGrant makes: a grant, the records of its first
// tokens and the token response.
type issued struct {
	grant   storage.Grant
	records [2]storage.Token
	resp    tokenResponse
}

// issueGrant makes a new grant of client c for user (empty for
// client_credentials; username is the name they signed in with, kept for
// introspection) with scopes, and its first access token and, when
// withRefresh is set, refresh token, bound to r's fingerprint when binding
// is on; it stores them all or nothing and returns the token response.
func (p *Provider) issueGrant(r *http.Request, c *authenticatedClient, userID, username string, scopes []string, withRefresh bool) (*tokenResponse, *Error) {
	ctx := r.Context()
	now := p.now()
	var random randomBits
	if err := random.read(); err != nil {
		return nil, errUnavailable(err)
	}
	grantID := token.GrantIDFrom(random.grantID())
	access, err := mintFrom(storage.KindAccess, grantID, random.access(), now, p.cfg.AccessTokenTTL, nil)
	if err != nil {
		return nil, errUnavailable(err)
	}
	// The grant, its tokens' records and the response in one allocation.
	is := &issued{
		grant: storage.Grant{
			ID:        grantID,
			ClientID:  c.ID,
			UserID:    userID,
			Username:  username,
			Scopes:    scopes,
			Binding:   p.fingerprint(r, c.ip), // "" when binding is off
			CreatedAt: now,
			ExpiresAt: access.record.ExpiresAt,
		},
		resp: tokenResponse{
			AccessToken: access.raw,
			TokenType:   "Bearer",
			ExpiresIn:   int64(p.cfg.AccessTokenTTL / time.Second),
			Scope:       formatScope(scopes),
			UserID:      userID,
			grantID:     grantID,
			issuedAt:    now,
		},
	}
	g, resp := &is.grant, &is.resp
	is.records[0] = access.record
	records := is.records[:1]
	if withRefresh {
		refresh, err := mintFrom(storage.KindRefresh, grantID, random.refresh(), now, p.cfg.RefreshTokenTTL, nil)
		if err != nil {
			return nil, errUnavailable(err)
		}
		is.records[1] = refresh.record
		records = is.records[:2]
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

// exchanged is what an exchange of a single-use token (a refresh token, a
// code) makes: the records of the new tokens and the token response.
type exchanged struct {
	records [2]storage.Token
	resp    tokenResponse
}

// mintExchange makes, from one crypto/rand read, the tokens an exchange
// in grant grantID issues at now: an access token carrying scopes (nil:
// the grant's) and, when withRefresh is set, a refresh token. Their
// records and the response share one allocation, as issueGrant's do; the
// caller fills in the response's Scope and UserID from the grant the
// store returns, and stores the records it returns.
func (p *Provider) mintExchange(grantID string, now time.Time, scopes []string, withRefresh bool) (*exchanged, []storage.Token, *Error) {
	var random randomBits
	if err := random.readTokens(); err != nil {
		return nil, nil, errUnavailable(err)
	}
	access, err := mintFrom(storage.KindAccess, grantID, random.access(), now, p.cfg.AccessTokenTTL, scopes)
	if err != nil {
		return nil, nil, errUnavailable(err)
	}
	x := &exchanged{
		records: [2]storage.Token{access.record},
		resp: tokenResponse{
			AccessToken: access.raw,
			TokenType:   "Bearer",
			ExpiresIn:   int64(p.cfg.AccessTokenTTL / time.Second),
			grantID:     grantID,
			issuedAt:    now,
		},
	}
	if !withRefresh {
		return x, x.records[:1], nil
	}
	refresh, err := mintFrom(storage.KindRefresh, grantID, random.refresh(), now, p.cfg.RefreshTokenTTL, nil)
	if err != nil {
		return nil, nil, errUnavailable(err)
	}
	x.records[1] = refresh.record
	x.resp.RefreshToken = refresh.raw
	return x, x.records[:2], nil
}
