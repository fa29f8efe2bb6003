package provider

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/netip"
	"strings"

	"github.com/oauth2provider/oauth2provider/internal/header"
	"github.com/oauth2provider/oauth2provider/internal/query"
	"github.com/oauth2provider/oauth2provider/storage"
)

// Client authentication methods (RFC 7591 §2 names).
const (
	authMethodBasic = "client_secret_basic"
	authMethodPost  = "client_secret_post"
	authMethodNone  = "none"
)

// authenticatedClient is a client that passed authentication.
type authenticatedClient struct {
	*storage.Client
	// method is how it authenticated: client_secret_basic,
	// client_secret_post, or none (a public client naming itself).
	method string
	// basic is set when the client used the Authorization header.
	basic bool
	// ip is the address the request came from ([Provider.ClientIP]),
	// read once for everything the request does with it: throttling
	// keys, the binding fingerprint, events.
	ip netip.Addr
}

// confidential reports whether the client proved it holds a secret.
func (c *authenticatedClient) confidential() bool { return c.method != authMethodNone }

// dummySecretHash is what a secret for an unknown client is verified
// against, so that an unknown client costs the same time as a wrong
// secret of a client with a generated (SHA-256-stored) secret.
var dummySecretHash = storage.HashGeneratedSecret("oauth2provider dummy secret for unknown clients")

// verifyDummySecret is storage.VerifySecret, with which judgeClient
// checks the secret of an unknown or public client against
// dummySecretHash; tests replace it to see that work done.
var verifyDummySecret = storage.VerifySecret

// parseBasicAuth parses the value of an Authorization header in the Basic
// scheme (RFC 7617) whose user-id and password are the client ID and
// secret, each application/x-www-form-urlencoded first (RFC 6749 §2.3.1).
// isBasic is false for another scheme; ok is false when a Basic value
// does not decode to a form-urlencoded "id:secret" with a non-empty id.
// The scheme name is case-insensitive, in ASCII (header.EqualFoldASCII),
// as net/http reads it.
func parseBasicAuth(h string) (id, secret string, isBasic, ok bool) {
	scheme, rest, _ := strings.Cut(h, " ")
	if !header.EqualFoldASCII(scheme, "Basic") {
		return "", "", false, false
	}
	rest = strings.Trim(rest, " \t")
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return "", "", true, false
	}
	// raw is never written again: the string view spares a copy.
	rawID, rawSecret, found := strings.Cut(unsafeString(raw), ":")
	if !found {
		return "", "", true, false
	}
	if id, err = query.Unescape(rawID); err != nil || id == "" {
		return "", "", true, false
	}
	if secret, err = query.Unescape(rawSecret); err != nil {
		return "", "", true, false
	}
	return id, secret, true, true
}

// validClientID reports whether id can name a client: text (isText), no
// tab. RFC 6749 (Appendix A.1) allows only printable ASCII, but a store
// takes any ID, and clients registered with others must go on working; an
// ID that is no text is not looked up.
func validClientID(id string) bool { return isText(id, false) }

// authenticateClient authenticates the client of an endpoint request
// (RFC 6749 §2.3): client_secret_basic, client_secret_post, or a public
// client's client_id alone. Using two methods at once is invalid_request.
// Any failure to authenticate is the same invalid_client (401), with a
// Basic challenge when the request used (or should have used) Basic; an
// unknown client costs the secret verification of a client with a
// generated secret (one whose secret a person chose costs argon2id).
// A disabled client never authenticates, and its right secret (one a
// person chose) is counted as a failed one. A store outage is a 503, and
// so is a request whose context ends while the check of its secret a
// person chose waits for its turn (see [storage.VerifySecretContext]),
// which is neither judged nor counted.
// Failed secrets a person chose are throttled per (client ID, client IP)
// and per client IP: over the limit the request is refused with 429
// before the secret is checked. Secrets made by [storage.NewClientSecret]
// are not throttled (256 random bits cannot be guessed), nor are unknown
// clients, which have no secret to guess. So a caller that fails often
// enough with a client ID learns, from the 429, that the ID names a client
// with a secret a person chose: client IDs are public identifiers
// (RFC 6749 §2.2), and the secrets they guard are throttled.
//
// exchange names the grant type of a token request that exchanges a
// single-use token (refresh_token, authorization_code), for which the
// client may come from the cache of Config.ClientCacheTTL; it is empty
// for every other request, which always reads the store.
func (p *Provider) authenticateClient(r *http.Request, f form, exchange string) (*authenticatedClient, *Error) {
	authz := r.Header["Authorization"] // canonical key: see header.First
	if len(authz) > 1 {
		return nil, errInvalidRequest("more than one Authorization header")
	}
	bodyID, bodySecret := f.get(paramClientID), f.get(paramClientSecret)

	var id, secret, method string
	switch {
	case len(authz) == 1:
		var isBasic, ok bool
		id, secret, isBasic, ok = parseBasicAuth(authz[0])
		if !isBasic {
			return nil, p.errInvalidClient(true, "unsupported client authentication method")
		}
		if !ok {
			// The client tried to authenticate with the header and
			// failed: 401 with a challenge (RFC 6749 §5.2).
			return nil, p.errInvalidClient(true, "malformed Basic client credentials")
		}
		if bodySecret != "" {
			return nil, errInvalidRequest("more than one client authentication method")
		}
		if bodyID != "" && bodyID != id {
			return nil, errInvalidRequest("client_id does not match the Authorization header")
		}
		method = authMethodBasic
		if secret == "" { // "id:" names a public client, as some libraries send it
			method = authMethodNone
		}
	case bodySecret != "":
		if bodyID == "" {
			return nil, errInvalidRequest("client_secret without client_id")
		}
		id, secret, method = bodyID, bodySecret, authMethodPost
	case bodyID != "":
		id, method = bodyID, authMethodNone
	default:
		return nil, p.errInvalidClient(true, "client authentication required")
	}
	basic := len(authz) == 1
	ip := p.ClientIP(r)

	if exchange == "" || p.clients == nil {
		return p.judgeClient(r.Context(), id, secret, method, basic, ip)
	}
	now := p.now()
	if c := p.clients.get(id, now); c != nil && servedFromCache(c, exchange, method, secret) {
		return &authenticatedClient{Client: c, method: method, basic: basic, ip: ip}, nil
	}
	gen := p.clients.generation()
	ac, e := p.judgeClient(r.Context(), id, secret, method, basic, ip)
	if e == nil && servable(ac.Client, exchange, method) { // judgeClient checked the secret
		p.clients.put(ac.Client, now, gen)
	}
	return ac, e
}

// judgeClient authenticates client id, which presented secret by method,
// from a fresh read of the store; see authenticateClient.
func (p *Provider) judgeClient(ctx context.Context, id, secret, method string, basic bool, ip netip.Addr) (*authenticatedClient, *Error) {
	c, err := p.viewClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		c = nil
	} else if err != nil {
		return nil, errUnavailable(err)
	}

	if method == authMethodNone {
		if c == nil || !c.Public || c.Disabled {
			p.noSecretRefused(ctx, ip, c)
			return nil, p.errInvalidClient(basic, "client authentication failed")
		}
		return &authenticatedClient{Client: c, method: method, basic: basic, ip: ip}, nil
	}
	// Only a secret a person chose can be guessed: failing at it is
	// counted. A generated secret (256 bits) cannot be, and an unknown or
	// public client has no secret to guess; failing at those is reported
	// but not counted, the same for all of them, and it spares the
	// limiter (round trips, on a shared one) on the common path. (The
	// throttle itself can tell a client with a chosen secret from the
	// others: see authenticateClient's doc.)
	var a attempt
	if c != nil && !c.Public && !storage.IsGeneratedSecretHash(c.SecretHash) {
		// Keyed by the ID of the client found, not the one presented: a
		// store may find one client by several spellings (a
		// case-insensitive collation), and each must not be a fresh
		// budget. For a store that matches IDs exactly they are the same.
		var e *Error
		if a, e = p.beginClient(ctx, c.ID, ip); e != nil {
			return nil, e
		}
		defer a.end()
	}
	var ok bool
	if c == nil || c.Public {
		verifyDummySecret(dummySecretHash, secret)
	} else {
		var err error
		if ok, err = c.VerifySecretContext(ctx, secret); err != nil {
			// The request ended while its secret a person chose waited
			// for an argon2id slot: nothing was judged, so no
			// invalid_client, and the failure reserved is refunded
			// (a.end); the answer is that of any request whose context
			// ended. A generated secret never waits and never fails here.
			return nil, errUnavailable(err)
		}
	}
	if e := p.clientSecretChecked(ctx, ip, &a, c, ok); e != nil {
		return nil, e
	}
	if !ok || c.Disabled {
		return nil, p.errInvalidClient(basic, "client authentication failed")
	}
	return &authenticatedClient{Client: c, method: method, basic: basic, ip: ip}, nil
}

// viewClient looks up client id for reading only: the store's own
// Client when Config.Clients is a [storage.ClientViewer], which the
// caller must not modify, else a copy. An ID that can name no client
// ([validClientID]) is storage.ErrNotFound without asking the store.
func (p *Provider) viewClient(ctx context.Context, id string) (*storage.Client, error) {
	if !validClientID(id) {
		return nil, storage.ErrNotFound
	}
	if p.viewer != nil {
		return p.viewer.ViewClient(ctx, id)
	}
	return p.cfg.Clients.GetClient(ctx, id)
}

// errInvalidClient is the 401 invalid_client answer (RFC 6749 §5.2), with
// a Basic challenge when basic is set: when the request used Basic, or no
// client authentication at all. A client that authenticated in the body
// (or a public client naming itself) gets none, although RFC 9110
// §11.6.1 asks for a challenge on every 401: a browser answered 401 with
// a Basic challenge to a same-origin fetch may open its password dialog,
// and the browser clients (contrib/jsclient, the quickstart page) send
// their client_id in the body.
func (p *Provider) errInvalidClient(basic bool, desc string) *Error {
	e := &Error{Code: CodeInvalidClient, Description: desc, Status: http.StatusUnauthorized}
	if basic {
		e.challenge = p.BasicChallenge()
	}
	return e
}
