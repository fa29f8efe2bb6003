package provider

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// Token type hints of RFC 7009 §2.1 and RFC 7662 §2.1.
const (
	hintAccessToken  = "access_token"
	hintRefreshToken = "refresh_token"
)

// RevokeHandler returns the token revocation endpoint (RFC 7009); mount it
// at POST /oauth2/revoke. The client authenticates as at the token
// endpoint (a public client with its client_id alone) and names the
// token in the token parameter. Revoking an access or a refresh token
// revokes its whole grant, every token of it. The answer is 200 with an
// empty body whether or not the token was found (§2.2): an unknown,
// malformed, expired or already revoked token changes nothing. A refresh
// token that a refresh has consumed revokes its grant, as presenting it
// at the token endpoint does (a logout with a refresh token that another
// tab has spent ends the session), and so does one whose expiry only our
// clock, ahead of the store's, has passed (the token endpoint, which
// leaves it to the store, would still honour it). token_type_hint only
// orders the lookup: a wrong or unknown hint still finds the token.
//
// A live token issued to another client is not revoked, and the request
// is refused (RFC 7009 §2.1: "the request is refused and the client is
// informed of the error") with 400 invalid_grant, RFC 6749 §5.2's error
// for a grant "issued to another client". A missing token is 400
// invalid_request; a failed client authentication is 401 invalid_client;
// a store outage is 503. A client that goes before the answer (a page
// closed on logout) does not stop the revocation: the client and the token
// are still looked up and the grant revoked, within a bound.
// Every response carries Cache-Control: no-store.
func (p *Provider) RevokeHandler() http.Handler { return http.HandlerFunc(p.serveRevoke) }

func (p *Provider) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if e := p.revoke(w, r); e != nil {
		p.writeError(w, r, e)
		return
	}
	h := w.Header()
	setNoStore(h)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

func (p *Provider) revoke(w http.ResponseWriter, r *http.Request) *Error {
	f, e := p.endpointRequest(w, r, "revocation")
	if e != nil {
		return e
	}
	// A client that sends its logout's revocation and goes (a page being
	// closed) must not cancel it half-way: not at the client's or the
	// token's lookup either, which a networked store fails once the
	// context is done.
	ctx, cancel := outliving(r.Context())
	defer cancel()
	r = r.WithContext(ctx)
	c, e := p.authenticateClient(r, f, "")
	if e != nil {
		return e
	}
	raw := f.get(paramToken)
	if raw == "" {
		return errInvalidRequest("missing token")
	}
	ti, err := p.findToken(r.Context(), raw, f.get(paramTokenHint))
	if err != nil {
		return errUnavailable(err)
	}
	if ti == nil {
		return p.revokeSpent(r.Context(), c, raw)
	}
	if ti.Grant.ClientID != c.ID {
		return errInvalidGrant("the token was issued to another client")
	}
	return p.revokeForClient(r.Context(), c, &ti.Grant)
}

// revokeForClient revokes g, a grant of client c, detached with a bound
// of its own (see revokeDetached), and reports it.
func (p *Provider) revokeForClient(ctx context.Context, c *authenticatedClient, g *storage.Grant) *Error {
	if err := p.revokeDetached(ctx, g.ID); err != nil {
		return errUnavailable(err)
	}
	p.emit(ctx, Event{Type: EventGrantRevoked, ClientID: c.ID, UserID: g.UserID,
		GrantID: g.ID, IP: c.ip, Reason: "revoked by the client (RFC 7009)"})
	return nil
}

// errLiveToken is revokeSpent's Check refusing the exchange of a token
// that is live after all: nothing is exchanged.
var errLiveToken = errors.New("provider: a live token, not exchanged")

// revokeSpent revokes the grant of raw when it is a refresh token of
// client c that findToken did not take for live: one a refresh has
// consumed, whose logout (the refresh token a client held while another
// tab, or the retry of a lost answer, spent it) ends the session as the
// user meant it to, as presenting it at the token endpoint would (RFC
// 9700 §4.14.2); or one the store still takes for live although our
// clock, ahead of the store's, has passed its expiry: the token endpoint
// leaves a refresh token's expiry to the store and would go on honouring
// it. The store's exchange finds both, which a lookup does not, and
// revokes a consumed token's grant; its Check refuses every live token,
// so nothing is ever exchanged here, and the live token's grant, which
// the store has found to be c's, is revoked after it. A token of another
// client, or none, changes nothing.
func (p *Provider) revokeSpent(ctx context.Context, c *authenticatedClient, raw string) *Error {
	ref, err := token.Parse(storage.KindRefresh, raw)
	if err != nil {
		return nil
	}
	ctx, cancel := detached(ctx) // as revokeDetached: a bound of its own
	defer cancel()
	var live *storage.Grant
	_, err = p.cfg.Tokens.ExchangeToken(ctx, storage.Exchange{
		Kind:      storage.KindRefresh,
		Presented: ref,
		ClientID:  c.ID,
		Check: func(g *storage.Grant) error {
			live = g
			return errLiveToken
		},
	})
	switch {
	case errors.Is(err, storage.ErrTokenReused):
		p.emit(ctx, Event{Type: EventGrantRevoked, ClientID: c.ID,
			UserID: reusedUser(err, ref.GrantID, c.ID), GrantID: ref.GrantID, IP: c.ip,
			Reason: "revoked by the client with a spent refresh token (RFC 7009)"})
		return nil
	case errors.Is(err, errLiveToken):
		if live == nil || live.ID != ref.GrantID || live.ClientID != c.ID {
			return nil // a store that broke the contract
		}
		return p.revokeForClient(ctx, c, live)
	case err == nil, errors.Is(err, storage.ErrNotFound):
		return nil // err == nil: a store that broke the contract; nothing was said to be revoked
	}
	return errUnavailable(err)
}

// outliving returns a context with ctx's values that goes on when ctx
// ends, for detachedTimeout more: a store that stops answering must not
// hold the request for ever once its client has gone. Calling the
// CancelFunc ends it at once.
func outliving(ctx context.Context) (context.Context, context.CancelFunc) {
	out, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(detachedTimeout)
		defer t.Stop()
		select {
		case <-out.Done():
		case <-t.C:
			cancel()
		}
	})
	return out, func() { stop(); cancel() }
}

// endpointRequest makes the checks every POST endpoint makes before
// authenticating the client: method, transport, body.
func (p *Provider) endpointRequest(w http.ResponseWriter, r *http.Request, name string) (form, *Error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return form{}, &Error{Code: CodeInvalidRequest, Description: "the " + name + " endpoint accepts POST only", Status: http.StatusMethodNotAllowed}
	}
	if !p.SecureEnough(r) {
		return form{}, errInvalidRequest("HTTPS is required")
	}
	return p.parseForm(w, r)
}

// findToken looks up a live access or refresh token, trying first the kind
// that hint names, then the other; a malformed token costs no lookup. It
// returns nil when no live token is found, and an error only for a store
// failure. A token is live when the store returns it, our clock says it
// has not expired and it belongs to the grant it names.
func (p *Provider) findToken(ctx context.Context, raw, hint string) (*storage.TokenInfo, error) {
	kinds := []storage.TokenKind{storage.KindAccess, storage.KindRefresh}
	if hint == hintRefreshToken {
		kinds[0], kinds[1] = kinds[1], kinds[0]
	}
	for _, k := range kinds {
		ref, err := token.Parse(k, raw)
		if err != nil {
			continue
		}
		ti, err := p.cfg.Tokens.LookupToken(ctx, k, ref)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !p.now().Before(ti.Token.ExpiresAt) || ti.Grant.ID != ref.GrantID {
			continue
		}
		ti.Token.Kind = k
		return ti, nil
	}
	return nil, nil
}
