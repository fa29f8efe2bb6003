package storage

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Grant types a [Client] may be allowed to use.
const (
	GrantPassword          = "password"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
)

// Client is a registered OAuth 2.0 client (RFC 6749 §2).
type Client struct {
	// ID is the client identifier, unique in the store. Required.
	ID string
	// SecretHash is the client secret in a stored form: made by
	// [NewClientSecret] (or [HashGeneratedSecret]) for a generated
	// secret, by [HashSecret] for one a person chose (bcrypt hashes are
	// read too); never the secret itself, which never verifies. Empty for
	// a public client. A store refuses any other (see [Client.Validate]).
	SecretHash string
	// GrantTypes lists the grant types the client may use (GrantPassword,
	// ...). A grant type not listed is refused with unauthorized_client.
	GrantTypes []string
	// Scopes lists the scopes the client may request. Empty means the
	// client may request only the provider's default scopes.
	Scopes []string
	// DefaultScopes are granted when a request names no scope, those of
	// them the client may request (see Scopes) and the provider knows
	// (its Config.Scopes, when set); the others are not granted. Empty
	// means the provider's default scopes that the client may request
	// (all of them when Scopes is empty).
	DefaultScopes []string
	// RedirectURIs are the registered redirection endpoints for the
	// authorization code grant, compared as exact strings. The
	// authorization endpoint sends a code only to a URI holding only the
	// characters of RFC 3986 §2 (an internationalized host or path
	// percent-encoded, or the host in its xn-- form: never a raw IRI),
	// absolute, without a fragment, https or a native app's private-use
	// scheme, or plain http on a loopback host (RFC 9700 §2.6), whose
	// query names no parameter of the response (code, state, iss,
	// error...); it shows an error page for any other.
	RedirectURIs []string
	// Public marks a client that cannot keep a secret (RFC 6749 §2.1); it
	// has no SecretHash and authenticates with its ID alone.
	Public bool
	// FirstParty marks a client of the app itself; it skips the consent
	// page, unless it is public and its redirect URI is not https on
	// another host than the user's machine (a loopback one, say): then
	// any program on that machine could pose as it, and the user is
	// asked (RFC 8252 §8.6).
	FirstParty bool
	// Disabled refuses every request of the client at the provider's
	// endpoints. Setting it in the store does not end tokens already
	// issued; the provider's DisableClient sets it and revokes them.
	Disabled bool
	// CreatedAt is when the client was registered.
	CreatedAt time.Time
	// Revision is the store's count of writes to the client: 1 once
	// created, one more after each update. The store sets it; GetClient
	// and ListClients return it, and UpdateClient compares it, so that a
	// read-modify-write loses no concurrent write (see
	// [ClientStore.UpdateClient]). Zero means unknown.
	Revision int64
}

// AllowsGrant reports whether the client may use grant type gt.
func (c *Client) AllowsGrant(gt string) bool { return slices.Contains(c.GrantTypes, gt) }

// VerifySecret reports, in constant time for secrets of equal length,
// whether secret is the client's secret. A public client has no secret and
// never verifies.
func (c *Client) VerifySecret(secret string) bool {
	if c.Public || c.SecretHash == "" {
		return false
	}
	return VerifySecret(c.SecretHash, secret)
}

// VerifySecretContext is [Client.VerifySecret] for a request's ctx: a
// secret a person chose gives up waiting its turn to be checked when ctx
// ends, returning ctx's error (see [VerifySecretContext]). A public
// client, or one without a SecretHash, never verifies and never fails.
func (c *Client) VerifySecretContext(ctx context.Context, secret string) (bool, error) {
	if c.Public || c.SecretHash == "" {
		return false, nil
	}
	return VerifySecretContext(ctx, c.SecretHash, secret)
}

// Validate reports whether c may be stored: nil when it can, else
// [ErrNoClientID] (c is nil or has no ID) or an error wrapping
// [ErrInvalidSecretHash]. A confidential client's SecretHash must be a
// stored form [VerifySecret] reads ([HashGeneratedSecret]'s SHA-256,
// [HashSecret]'s argon2id, or bcrypt): any other never verifies, so the
// client would fail every authentication with nothing but invalid_client
// to show for it, and it is often a secret stored in the clear (the plain
// secret, or the two results of [NewClientSecret] swapped). A public
// client has no secret: its SecretHash should be empty, and is never
// verified; one that is set must be in such a form too. Every
// [ClientStore] calls Validate at the top of CreateClient and
// UpdateClient. The error names the client's ID, never its SecretHash.
// Validate reads the form only: it hashes nothing.
func (c *Client) Validate() error {
	if c == nil || c.ID == "" {
		return ErrNoClientID
	}
	switch {
	case c.SecretHash == "" && !c.Public:
		return fmt.Errorf("%w: client %q is confidential and has no SecretHash (a client without a secret sets Public)", ErrInvalidSecretHash, c.ID)
	case c.SecretHash != "" && !readableSecretHash(c.SecretHash):
		return fmt.Errorf("%w: the SecretHash of client %q is in no stored form the library reads "+
			"(storage.NewClientSecret's or HashGeneratedSecret's SHA-256, HashSecret's argon2id, or bcrypt): "+
			"store the secret's hash, never the secret itself", ErrInvalidSecretHash, c.ID)
	}
	return nil
}

// ClientStore keeps registered clients. Implementations must be safe for
// concurrent use.
type ClientStore interface {
	// GetClient returns the client with the given ID, with its Revision,
	// or ErrNotFound. Disabled clients are returned; the caller refuses
	// them. A list stored empty reads back nil, as every read returns it.
	GetClient(ctx context.Context, id string) (*Client, error)
	// CreateClient stores a new client, or returns ErrAlreadyExists when
	// the ID is taken. The stored client has Revision 1 whatever c.Revision
	// holds; on success CreateClient sets c.Revision to 1. A client without
	// an ID is an error: the empty ID names no client (sessions are grants
	// of no client). So is one whose SecretHash [Client.Validate] refuses
	// (ErrInvalidSecretHash): it calls Validate before anything else.
	CreateClient(ctx context.Context, c *Client) error
	// UpdateClient replaces the stored client with the same ID by c, as
	// one atomic compare-and-set, or returns ErrNotFound when there is no
	// such client (whatever c.Revision holds), and ErrNoClientID for a
	// client without an ID. Like CreateClient it first calls
	// [Client.Validate] and returns its error (ErrInvalidSecretHash, whether
	// or not the client exists), writing nothing. A client already stored
	// with a SecretHash Validate refuses is still read as it is.
	//
	// When c.Revision is not zero, the client is replaced only if its
	// stored Revision equals c.Revision (never, for a negative one): a caller that read the client,
	// changed it and passes it back replaces it only if nobody wrote it in
	// between. Otherwise UpdateClient returns ErrConflict and changes
	// nothing; the caller reads the client again and retries. When
	// c.Revision is zero the client is replaced whatever its revision.
	//
	// Either way the stored Revision becomes the old one plus one, and on
	// success UpdateClient sets c.Revision to it.
	UpdateClient(ctx context.Context, c *Client) error
	// ListClients returns every client, with its Revision, ordered by ID.
	ListClients(ctx context.Context) ([]*Client, error)
}

// ClientViewer is an optional capability of a [ClientStore]: a lookup
// that returns the store's own Client rather than a copy, for the token
// endpoint, which looks a client up on every request. The provider uses it
// when Config.Clients implements it and falls back to GetClient
// otherwise; a backend that decodes a fresh Client per lookup anyway (a
// network round trip) gains nothing by implementing it. A wrapper that
// embeds a store and overrides GetClient must override ViewClient too, or
// the provider calls the embedded one past the override.
type ClientViewer interface {
	// ViewClient is GetClient returning a Client that may be the store's
	// own, which never changes once stored (an update stores a new one):
	// the caller must not modify it or anything it points to, and copies
	// it before handing it to code that might. It must be safe for
	// concurrent use and follows GetClient's rules (ErrNotFound, disabled
	// clients returned).
	ViewClient(ctx context.Context, id string) (*Client, error)
}
