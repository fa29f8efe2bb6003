package storage

import "errors"

// Sentinel errors returned by stores, possibly wrapped. Check them with
// [errors.Is]. Any other error from a store means the backend failed (an
// outage, a timeout, a cancelled context).
var (
	// ErrNotFound reports that a client, grant or token does not exist, or
	// no longer counts: it expired or was revoked. Stores do not tell these
	// cases apart, so neither can a caller probing tokens.
	ErrNotFound = errors.New("storage: not found")

	// ErrAlreadyExists reports that a record with the same ID or token hash
	// is already stored.
	ErrAlreadyExists = errors.New("storage: already exists")

	// ErrConflict reports that a client was not updated because it changed
	// since the caller read it: its stored Revision is no longer the one
	// the caller passed to UpdateClient. Nothing was written; read the
	// client again and retry.
	ErrConflict = errors.New("storage: conflict: changed since read")

	// ErrNoClientID reports a client without an ID given to CreateClient
	// or UpdateClient: the empty ID names no client (sessions are grants
	// of no client), so a store never holds one.
	ErrNoClientID = errors.New("storage: client has no ID")

	// ErrInvalidSecretHash reports a client given to CreateClient or
	// UpdateClient whose SecretHash [Client.Validate] refuses: not a
	// stored form [VerifySecret] reads (the secret itself, say), or empty
	// on a confidential client. Nothing was written. The error never
	// contains the SecretHash.
	ErrInvalidSecretHash = errors.New("storage: invalid client secret hash")

	// ErrTokenReused reports that a refresh token or code which had
	// already been exchanged was presented again. The store has revoked
	// the whole grant by the time it returns this error (RFC 9700
	// §4.14.2). The shipped stores return it as a [*ReuseError], which
	// names the grant's user.
	ErrTokenReused = errors.New("storage: refresh token reused; grant revoked")
)

// ReuseError is the [ErrTokenReused] of an exchange: it names the grant
// the store revoked, so that the report of a possibly stolen token can
// say whose it was (the grant may be gone by the time anyone looks).
// errors.Is(err, ErrTokenReused) holds for it; find it with errors.As.
// A store that returns the bare sentinel still works: the provider's
// event then carries no user ID.
type ReuseError struct {
	// GrantID, ClientID and UserID are those of the revoked grant
	// (UserID is empty for a grant of no user, a client's own).
	GrantID, ClientID, UserID string
}

// Error returns the text of [ErrTokenReused]; it carries no identifier.
func (e *ReuseError) Error() string { return ErrTokenReused.Error() }

// Unwrap returns [ErrTokenReused].
func (e *ReuseError) Unwrap() error { return ErrTokenReused }
