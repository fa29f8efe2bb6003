package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// SessionClientID is the ClientID of the grant behind a browser session.
// It is empty, an ID no registered client can have, so revoking or
// disabling a client never touches sessions, and a session token is never
// taken for a client's.
const SessionClientID = ""

// CreateSession starts a browser session for userID (from
// [Provider.AuthenticateUser]): a grant of [SessionClientID] with scopes,
// holding one [storage.KindSession] token valid for ttl, bound to r's
// [Provider.Fingerprint] when binding is on. It returns the token, which
// the caller hands to the browser (policy.Sessions puts it in a cookie),
// and its expiry. Only the token's hash is stored, so revoking the user
// ([storage.TokenStore.RevokeUser]) ends the session too. An error is a
// failure of the store or of crypto/rand.
func (p *Provider) CreateSession(r *http.Request, userID string, scopes []string, ttl time.Duration) (string, time.Time, error) {
	if userID == "" {
		return "", time.Time{}, errors.New("provider: a session needs a user ID")
	}
	if ttl < time.Second {
		return "", time.Time{}, errors.New("provider: a session needs a TTL of at least one second")
	}
	now := p.now()
	grantID, err := token.NewGrantID()
	if err != nil {
		return "", time.Time{}, err
	}
	session, err := mint(storage.KindSession, grantID, now, ttl, nil)
	if err != nil {
		return "", time.Time{}, err
	}
	g := &storage.Grant{
		ID:        grantID,
		ClientID:  SessionClientID,
		UserID:    userID,
		Scopes:    slices.Clone(scopes),
		Binding:   p.Fingerprint(r),
		CreatedAt: now,
		ExpiresAt: session.record.ExpiresAt,
	}
	ctx := r.Context()
	if err := ctx.Err(); err != nil { // the client is gone: start nothing
		return "", time.Time{}, err
	}
	if err := p.cfg.Tokens.CreateGrant(ctx, g, session.record); err != nil {
		return "", time.Time{}, fmt.Errorf("provider: create session: %w", err)
	}
	return session.raw, session.record.ExpiresAt, nil
}

// ValidateSession checks the session token raw presented with r, like
// [Provider.ValidateAccessToken] does an access token: a malformed token
// costs no store lookup; a malformed, unknown, expired or ended session,
// or one presented from another client IP or User-Agent than it is bound
// to (which also ends it, unless revoking it fails: the store error is
// then joined to it), is [ErrInvalidToken]; any other error is a
// store failure (503). The returned TokenInfo is the caller's.
func (p *Provider) ValidateSession(r *http.Request, raw string) (*storage.TokenInfo, error) {
	return p.validateToken(r, storage.KindSession, raw)
}

// ExtendSession moves the expiry of the live session token raw to
// expiresAt, for sliding sessions (no later than 2262-04-11, where a
// token's lifetime ends however long it was meant to be). A token that is malformed or not live
// is [ErrInvalidToken]; any other error is a store failure.
func (p *Provider) ExtendSession(ctx context.Context, raw string, expiresAt time.Time) error {
	ref, err := token.Parse(storage.KindSession, raw)
	if err != nil {
		return ErrInvalidToken
	}
	if err := p.cfg.Tokens.ExtendToken(ctx, ref, capExpiry(expiresAt)); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return ErrInvalidToken
		}
		return fmt.Errorf("provider: extend session: %w", err)
	}
	return nil
}

// EndSession ends the session whose token is raw: its grant is revoked in
// the store, so the token is refused from then on wherever it is presented.
// The token is looked up first, so that a forged token naming someone
// else's grant ends nothing. A token that is malformed or no live session
// is [ErrInvalidToken]; any other error is a store failure. Binding is not
// checked: ending a session is always allowed to its holder. When ctx
// ends (a browser that goes right after its logout), the lookup and the
// revocation go on, each for at most 5 s more, as at the revocation
// endpoint.
func (p *Provider) EndSession(ctx context.Context, raw string) error {
	ref, err := token.Parse(storage.KindSession, raw)
	if err != nil {
		return ErrInvalidToken
	}
	// A networked store fails a lookup whose context is done: the
	// session would live on although its user logged out.
	ctx, cancel := outliving(ctx)
	defer cancel()
	if _, err := p.cfg.Tokens.LookupToken(ctx, storage.KindSession, ref); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return ErrInvalidToken
		}
		return fmt.Errorf("provider: look up session: %w", err)
	}
	if err := p.revokeDetached(ctx, ref.GrantID); err != nil {
		return fmt.Errorf("provider: end session: %w", err)
	}
	return nil
}
