// Package storage defines the records and the store contracts of the OAuth
// 2.0 provider: [Client] and [ClientStore] for registered clients, [Grant],
// [Token] and [TokenStore] for the tokens issued to them.
//
// Backends (package memory, postgres and redis under this directory)
// implement the interfaces; the provider depends on the interfaces only.
// Every backend must pass the conformance suite in package storagetest.
//
// Tokens are never stored: a store sees and keeps only [Hash] values, the
// SHA-256 of the token string, so a dump of a store yields no usable token.
// Client secrets are stored in a self-describing hashed form: a SHA-256
// for a generated one ([NewClientSecret], [HashGeneratedSecret]), argon2id
// for one a person chose ([HashSecret]); [VerifySecret] reads both, and
// bcrypt.
//
// Errors a store returns are the sentinels of this package, possibly
// wrapped, checked with [errors.Is]. Any other error is an outage of the
// backend, which the provider answers with HTTP 503.
package storage
