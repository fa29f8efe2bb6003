package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Hash is the SHA-256 of a token string: the only form in which a store
// sees or keeps a token.
type Hash [sha256.Size]byte

// HashToken returns the Hash of the token string tok.
func HashToken(tok string) Hash { return sha256.Sum256([]byte(tok)) }

// String returns the hash in lower-case hex. It is safe to log: a hash does
// not give the token back.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// TokenRef is how a store finds a presented token: the ID of its grant,
// which every token carries in the clear so that a store can keep a grant
// and its tokens together (one Redis Cluster slot), and the token's hash.
// The hash covers the whole token, grant ID included, so a forged grant ID
// finds nothing.
type TokenRef struct {
	GrantID string // the grant ID the token carries
	Hash    Hash   // SHA-256 of the whole token
}

// TokenKind tells what a token is for. A token is found only under its own
// kind: an access token is no refresh token.
type TokenKind uint8

// Token kinds.
const (
	// KindAccess is a bearer access token (RFC 6750).
	KindAccess TokenKind = 1
	// KindRefresh is a single-use refresh token (RFC 6749 §6).
	KindRefresh TokenKind = 2
	// KindSession is a browser session behind a cookie.
	KindSession TokenKind = 3
	// KindCode is a single-use authorization code (RFC 6749 §4.1).
	KindCode TokenKind = 4
)

// String returns the kind's name: "access", "refresh", "session" or "code".
func (k TokenKind) String() string {
	switch k {
	case KindAccess:
		return "access"
	case KindRefresh:
		return "refresh"
	case KindSession:
		return "session"
	case KindCode:
		return "code"
	}
	return "unknown"
}

// Grant is one authorization: what a client got on behalf of a user (or of
// itself, for client_credentials). All tokens of a grant live and die with
// it: revoking the grant, or any of its tokens, ends them all.
type Grant struct {
	// ID identifies the grant; the provider makes it random and unique
	// (22 base64url characters). It is not secret: every token of the
	// grant carries it.
	ID string
	// ClientID is the client the grant was issued to.
	ClientID string
	// UserID is the resource owner; empty for client_credentials.
	UserID string
	// Username is the name the resource owner signed in with (the
	// password grant's username), for introspection (RFC 7662); empty
	// when unknown.
	Username string
	// Scopes are the scopes granted. Tokens of the grant may carry fewer.
	Scopes []string
	// Binding is an opaque fingerprint of the user agent the grant is bound
	// to, or empty when the grant is not bound.
	Binding string
	// CreatedAt is when the grant was made.
	CreatedAt time.Time
	// ExpiresAt is when the grant and all its tokens end. Stores keep it
	// at least as late as the latest expiry of the grant's tokens and may
	// reclaim the grant after it.
	ExpiresAt time.Time
	// Code holds what an authorization code was bound to, for the
	// authorization code grant; nil for other grants.
	Code *CodeBinding
}

// CodeBinding is what an authorization code is bound to (RFC 6749 §4.1.3,
// RFC 7636).
type CodeBinding struct {
	// RedirectURI is the redirect_uri of the authorization request.
	RedirectURI string
	// Challenge is the PKCE code_challenge, or empty.
	Challenge string
	// ChallengeMethod is "S256" or "plain", or empty with no Challenge.
	ChallengeMethod string
}

// Token is one stored token of a grant.
type Token struct {
	// Hash is the SHA-256 of the token string.
	Hash Hash
	// Kind is what the token is for.
	Kind TokenKind
	// GrantID is the grant the token belongs to.
	GrantID string
	// Scopes narrow the grant's scopes for this token; nil means the
	// grant's scopes.
	Scopes []string
	// IssuedAt is when the token was made.
	IssuedAt time.Time
	// ExpiresAt is when the token stops counting.
	ExpiresAt time.Time
}

// TokenInfo is a live token with its grant, as [TokenStore.LookupToken]
// returns it.
type TokenInfo struct {
	Token Token // the token's record
	Grant Grant // the grant it belongs to
}

// EffectiveScopes returns the scopes the token carries: its own when it
// narrows the grant, else the grant's.
func (ti *TokenInfo) EffectiveScopes() []string {
	if ti.Token.Scopes != nil {
		return ti.Token.Scopes
	}
	return ti.Grant.Scopes
}

// Exchange describes the atomic trade of a single-use token (a refresh
// token or an authorization code) for new tokens of the same grant.
type Exchange struct {
	// Kind is the kind of the presented token: KindRefresh or KindCode.
	// For any other kind the store returns ErrNotFound and changes
	// nothing.
	Kind TokenKind
	// Presented finds the presented token.
	Presented TokenRef
	// ClientID must be the grant's client. Otherwise the store returns
	// ErrNotFound and changes nothing.
	ClientID string
	// Check, when not nil, runs atomically with the exchange after the
	// token was found live and before it is consumed. It is shown a copy
	// of the grant; it runs while the store holds locks, so it must be
	// quick and must not call the store. An error from Check is returned
	// as is (wrapped at most) and nothing changes.
	Check func(*Grant) error
	// Issue are the new tokens, stored in the presented token's grant.
	// Their GrantID is set by the store.
	Issue []Token
	// Bind, when not empty, binds a grant that is not bound yet (empty
	// Binding) to this fingerprint, atomically with the exchange: the
	// grant returned and every later lookup or Check show it as the
	// grant's Binding. A grant already bound keeps its binding. Check
	// is shown the grant as it was before. An exchange that fails (an
	// error from Check, reuse, not found) binds nothing. The provider
	// sets it when it exchanges an authorization code, so that the
	// grant is bound to the client that holds its tokens. Empty means
	// the binding is left as it is. Every TokenStore must implement it:
	// the provider refuses (503) a code exchange whose returned grant
	// is not bound as asked, and revokes the grant.
	Bind string
	// ReuseGrace, when positive, is how long after a refresh token was
	// first consumed presenting it again is not reuse: within that time,
	// while its grant is live, the exchange goes on as for a live token
	// (Check runs, the new tokens are stored, Bind applies, the grant is
	// returned), the token stays consumed with its first consumption's
	// instant, so the grace never slides, and the tokens its earlier
	// exchanges issued stay live. It lets a client whose answer to a
	// refresh was lost (a dropped connection, a timeout) try again with
	// the token it holds, at the price of not detecting a replay within
	// that time. The grace ends early once any token of the grant is
	// consumed after the presented one (a later rotation, on any branch):
	// the client then had its answer, and the token presented again is
	// reuse. "After" is the order in which the exchanges ran, whatever
	// the clocks of the instances that made them say: a store records
	// each consumption of a grant's token at an instant past the
	// grant's latest one (now, or just past that one when now is not
	// after it), and the grace runs from that instant. Zero, the default, is no grace; a code (KindCode) never
	// has any; a consumed token of a revoked grant is reuse as ever.
	// (A store written before this field ignores it, which is the safe
	// side: every second presentation is reuse.)
	ReuseGrace time.Duration
}

// Grace returns the reuse grace x gives its presented token: ReuseGrace
// for a refresh token when positive, else zero (a code never has any).
// Stores judge ReuseGrace through it, so that the rule is one.
func (x *Exchange) Grace() time.Duration {
	if x.Kind != KindRefresh || x.ReuseGrace <= 0 {
		return 0
	}
	return x.ReuseGrace
}

// TokenStore keeps grants and the hashes of their tokens. Implementations
// must be safe for concurrent use; every method is atomic. Expiry is judged
// against the store's clock: an expired token or grant is never returned,
// whether or not it has been reclaimed yet. Times it returns are in UTC.
// What it stores comes back unchanged, or is refused when written (text
// a store cannot hold as it is, such as invalid UTF-8 in Postgres or in
// the JSON the Redis store keeps scopes in, or a time outside the years
// 1678 to 2262 in the memory and Redis stores, which keep Unix
// nanoseconds); an ID no record can have
// finds nothing (ErrNotFound, nothing revoked), it is no error. User and
// client IDs of up to 1 KiB work with every store of this module
// (Postgres refuses IDs past about 2.7 KB, the size of its index entries).
type TokenStore interface {
	// CreateGrant stores g with its first tokens, all or nothing. The
	// tokens' GrantID must be g.ID. It returns ErrAlreadyExists when the
	// grant ID is taken (or, for stores that index hashes globally, a
	// token hash: the 256 random bits make that impossible in practice).
	CreateGrant(ctx context.Context, g *Grant, tokens ...Token) error

	// LookupToken returns the live token of the given kind that ref
	// names, and its grant. An unknown, expired, revoked or consumed token,
	// or one of another kind, is ErrNotFound.
	LookupToken(ctx context.Context, kind TokenKind, ref TokenRef) (*TokenInfo, error)

	// ExchangeToken consumes the presented single-use token and stores the
	// new ones, atomically: of concurrent exchanges of one token exactly
	// one succeeds (and, with x.ReuseGrace, those within the grace of its
	// consumption after it). It returns the grant. A token that was already
	// consumed is reuse: the store revokes the whole grant and returns
	// ErrTokenReused, as a *ReuseError naming the grant, its client and
	// its user; a consumed token stays reuse until its own expiry,
	// even after its grant was revoked. An unknown or expired token, a
	// live token of a revoked grant, or a grant of another client, is
	// ErrNotFound and changes nothing. When x.Bind is set and the grant
	// is not bound, the same atomic step binds it (Grant.Binding =
	// x.Bind); of concurrent exchanges that bind one grant, the first
	// sets the binding and the grant a later one returns shows it, or,
	// when the later one has a Check, it may fail with ErrNotFound and
	// consume nothing (a store that checks and writes in two atomic
	// steps, as the Redis store does, sees the grant changed between
	// them). The provider binds only at a code exchange, a grant's
	// first, so it never races another.
	ExchangeToken(ctx context.Context, x Exchange) (*Grant, error)

	// ExtendToken moves the expiry of a live token (and of its grant, if
	// needed) to expiresAt, for sliding sessions. A token that is not live
	// is ErrNotFound.
	ExtendToken(ctx context.Context, ref TokenRef, expiresAt time.Time) error

	// RevokeGrant ends the grant and all its tokens. Revoking a grant that
	// does not exist is not an error.
	RevokeGrant(ctx context.Context, grantID string) error

	// RevokeUser ends every grant of the user not revoked yet and returns
	// how many of them were live. Grants past their expiry by the store's
	// clock are ended too: another instance, whose clock is behind, may
	// still see them live. The empty user ID (client_credentials grants)
	// ends nothing.
	RevokeUser(ctx context.Context, userID string) (int, error)

	// RevokeClient ends every grant of the client not revoked yet, as
	// RevokeUser does, and returns how many of them were live. The empty
	// client ID ends nothing: no client has it, and the grants without a
	// client are browser sessions (provider.SessionClientID), which an ID
	// left empty by mistake must not end for every user.
	RevokeClient(ctx context.Context, clientID string) (int, error)
}

// TokenInfoFiller is an optional capability of a [TokenStore]: a lookup
// that writes into a TokenInfo the caller provides, so that validating a
// token on every request need not allocate one. The provider uses it when
// Config.Tokens implements it and falls back to LookupToken otherwise;
// a backend that allocates per lookup anyway (a network round trip) gains
// nothing by implementing it. A wrapper that embeds a store and overrides
// LookupToken must override LookupTokenInto too, or the provider calls the
// embedded one past the override.
type TokenInfoFiller interface {
	// LookupTokenInto is LookupToken writing the result into dst, which
	// it overwrites entirely, and judging expiry at now, the caller's
	// clock reading (an in-process store need not read a clock of its
	// own; a remote one may also apply its server's). It must be safe
	// for concurrent use, and follows LookupToken's rules for "not
	// found" (ErrNotFound). Unlike LookupToken's result, dst's slices and pointers
	// (Token.Scopes, Grant.Scopes, Grant.Code) may share the store's
	// memory: the caller must not modify what they point to, and copies
	// them before handing them to code that might. After an error dst's
	// content is unspecified.
	LookupTokenInto(ctx context.Context, kind TokenKind, ref TokenRef, now time.Time, dst *TokenInfo) error
}

// Cleaner is implemented by stores that need expired records removed by a
// janitor (Postgres). Stores whose backend expires records itself (Redis)
// or that reclaim as they go (memory) need not implement it.
type Cleaner interface {
	// DeleteExpired removes up to limit expired or revoked records (a
	// grant with its tokens counts as one; a lone expired token as one)
	// and returns how many it removed; call it until it returns fewer than
	// limit. Consumed refresh tokens are kept until they expire, for reuse
	// detection.
	DeleteExpired(ctx context.Context, limit int) (int, error)
}
