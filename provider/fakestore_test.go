package provider_test

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// testStore is the memory store with fault injection and a count of
// token store calls.
type testStore struct {
	*memory.Store
	fail  atomic.Pointer[error] // when set, GetClient, ViewClient, CreateGrant and the lookups and exchange return it (not ExtendToken, the revocations, the client writes)
	calls atomic.Int64          // token store calls
	views atomic.Int64          // ViewClient calls
	// checked counts the ExchangeToken calls with a Check, which a
	// remote store cannot make in one round trip.
	checked atomic.Int64
}

func newTestStore(now func() time.Time) *testStore {
	return &testStore{Store: memory.New(memory.Config{Now: now})}
}

func (s *testStore) setFail(err error) {
	if err == nil {
		s.fail.Store(nil)
		return
	}
	s.fail.Store(&err)
}

func (s *testStore) err() error {
	if p := s.fail.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *testStore) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.GetClient(ctx, id)
}

func (s *testStore) ViewClient(ctx context.Context, id string) (*storage.Client, error) {
	s.views.Add(1)
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.ViewClient(ctx, id)
}

func (s *testStore) CreateGrant(ctx context.Context, g *storage.Grant, tokens ...storage.Token) error {
	s.calls.Add(1)
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.CreateGrant(ctx, g, tokens...)
}

func (s *testStore) LookupToken(ctx context.Context, kind storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	s.calls.Add(1)
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.LookupToken(ctx, kind, ref)
}

func (s *testStore) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	s.calls.Add(1)
	if x.Check != nil {
		s.checked.Add(1)
	}
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.ExchangeToken(ctx, x)
}

func (s *testStore) LookupTokenInto(ctx context.Context, kind storage.TokenKind, ref storage.TokenRef, now time.Time, dst *storage.TokenInfo) error {
	s.calls.Add(1)
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.LookupTokenInto(ctx, kind, ref, now, dst)
}
