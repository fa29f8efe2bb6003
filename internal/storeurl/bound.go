package storeurl

import (
	"context"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
)

// bound wraps every store of s so that each call ends within d.
func (s *Stores) bound(d time.Duration) {
	s.Clients = boundClients{s.Clients, d}
	s.Tokens = boundTokens{s.Tokens, d}
	if s.Cleaner != nil {
		s.Cleaner = boundCleaner{s.Cleaner, d}
	}
	if s.Limiter != nil {
		bl := boundLimiter{s.Limiter, d}
		if b, ok := s.Limiter.(storage.BatchLimiter); ok {
			// Keep the capability: the provider reserves an attempt's keys
			// in one round trip only through it.
			s.Limiter = boundBatchLimiter{bl, b}
		} else {
			s.Limiter = bl
		}
	}
}

// boundClients is a ClientStore whose calls end within d.
type boundClients struct {
	s storage.ClientStore
	d time.Duration
}

func (b boundClients) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.GetClient(ctx, id)
}

func (b boundClients) CreateClient(ctx context.Context, c *storage.Client) error {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.CreateClient(ctx, c)
}

// UpdateClient hands c itself to the store, which compares its Revision
// and sets it.
func (b boundClients) UpdateClient(ctx context.Context, c *storage.Client) error {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.UpdateClient(ctx, c)
}

func (b boundClients) ListClients(ctx context.Context) ([]*storage.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.ListClients(ctx)
}

// boundTokens is a TokenStore whose calls end within d.
type boundTokens struct {
	s storage.TokenStore
	d time.Duration
}

func (b boundTokens) CreateGrant(ctx context.Context, g *storage.Grant, tokens ...storage.Token) error {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.CreateGrant(ctx, g, tokens...)
}

func (b boundTokens) LookupToken(ctx context.Context, kind storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.LookupToken(ctx, kind, ref)
}

func (b boundTokens) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.ExchangeToken(ctx, x)
}

func (b boundTokens) ExtendToken(ctx context.Context, ref storage.TokenRef, expiresAt time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.ExtendToken(ctx, ref, expiresAt)
}

func (b boundTokens) RevokeGrant(ctx context.Context, grantID string) error {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.RevokeGrant(ctx, grantID)
}

// RevokeUser and RevokeClient touch every grant of a user or client, so
// they get the caller's context only: an operator's bulk revocation must
// not stop half-way because it took longer than one call should.

func (b boundTokens) RevokeUser(ctx context.Context, userID string) (int, error) {
	return b.s.RevokeUser(ctx, userID)
}

func (b boundTokens) RevokeClient(ctx context.Context, clientID string) (int, error) {
	return b.s.RevokeClient(ctx, clientID)
}

// boundCleaner is a Cleaner whose calls end within d.
type boundCleaner struct {
	s storage.Cleaner
	d time.Duration
}

func (b boundCleaner) DeleteExpired(ctx context.Context, limit int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.DeleteExpired(ctx, limit)
}

// boundLimiter is a Limiter whose calls end within d.
type boundLimiter struct {
	s storage.Limiter
	d time.Duration
}

func (b boundLimiter) Throttled(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.Throttled(ctx, key, r)
}

func (b boundLimiter) Fail(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.Fail(ctx, key, r)
}

func (b boundLimiter) Reserve(ctx context.Context, key string, r storage.Rate) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.Reserve(ctx, key, r)
}

func (b boundLimiter) Refund(ctx context.Context, key string, r storage.Rate) error {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.s.Refund(ctx, key, r)
}

// boundBatchLimiter is a boundLimiter over a Limiter that is also a
// storage.BatchLimiter, whose ReserveAll and RefundAll end within d too.
type boundBatchLimiter struct {
	boundLimiter
	b storage.BatchLimiter
}

func (b boundBatchLimiter) ReserveAll(ctx context.Context, keys []storage.LimitKey) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.b.ReserveAll(ctx, keys)
}

func (b boundBatchLimiter) RefundAll(ctx context.Context, keys []storage.LimitKey) error {
	ctx, cancel := context.WithTimeout(ctx, b.d)
	defer cancel()
	return b.b.RefundAll(ctx, keys)
}
