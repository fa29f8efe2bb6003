package memory

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/oauth2provider/oauth2provider/storage"
)

// clientMap holds the clients: reads are lock-free, writes are serialised
// by mu so that a check and the write that follows it are atomic. The
// stored *storage.Client values are private copies, never modified after
// they are stored.
type clientMap struct {
	mu sync.Mutex
	m  sync.Map // string -> *storage.Client
}

// GetClient returns a copy of the client with the given ID, or
// [storage.ErrNotFound].
func (s *Store) GetClient(_ context.Context, id string) (*storage.Client, error) {
	v, ok := s.clients.m.Load(id)
	if !ok {
		return nil, storage.ErrNotFound
	}
	return cloneClient(v.(*storage.Client)), nil
}

// ViewClient implements [storage.ClientViewer]: it returns the stored
// client itself, without copying it. Stored clients are never modified
// (UpdateClient stores a new copy), and the caller must not modify them.
func (s *Store) ViewClient(_ context.Context, id string) (*storage.Client, error) {
	v, ok := s.clients.m.Load(id)
	if !ok {
		return nil, storage.ErrNotFound
	}
	return v.(*storage.Client), nil
}

// CreateClient stores a copy of c with Revision 1, or returns
// [storage.ErrAlreadyExists] when its ID is taken.
func (s *Store) CreateClient(_ context.Context, c *storage.Client) error {
	if err := c.Validate(); err != nil {
		return err
	}
	stored := cloneClient(c)
	stored.Revision = 1
	if _, loaded := s.clients.m.LoadOrStore(c.ID, stored); loaded {
		return storage.ErrAlreadyExists
	}
	c.Revision = 1
	return nil
}

// UpdateClient replaces the stored client with the ID of c by a copy of c
// with the next revision, or returns [storage.ErrNotFound], or
// [storage.ErrConflict] when c.Revision is neither zero nor the stored
// one. The check and the write are atomic under the store's lock.
func (s *Store) UpdateClient(_ context.Context, c *storage.Client) error {
	if err := c.Validate(); err != nil {
		return err
	}
	s.clients.mu.Lock()
	defer s.clients.mu.Unlock()
	v, ok := s.clients.m.Load(c.ID)
	if !ok {
		return storage.ErrNotFound
	}
	old := v.(*storage.Client).Revision
	if c.Revision != 0 && c.Revision != old {
		return storage.ErrConflict
	}
	stored := cloneClient(c)
	stored.Revision = old + 1
	s.clients.m.Store(c.ID, stored)
	c.Revision = stored.Revision
	return nil
}

// ListClients returns copies of every client, ordered by ID.
func (s *Store) ListClients(context.Context) ([]*storage.Client, error) {
	var out []*storage.Client
	s.clients.m.Range(func(_, v any) bool {
		out = append(out, cloneClient(v.(*storage.Client)))
		return true
	})
	slices.SortFunc(out, func(a, b *storage.Client) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// cloneClient returns a deep copy of c. Its four lists share one backing
// array, each capped at its own length so that an append by the caller
// cannot spill into the next one. An empty list is nil, as the other
// stores read it back.
func cloneClient(c *storage.Client) *storage.Client {
	out := *c
	backing := make([]string, 0, len(c.GrantTypes)+len(c.Scopes)+len(c.DefaultScopes)+len(c.RedirectURIs))
	take := func(list []string) []string {
		if len(list) == 0 {
			return nil
		}
		start := len(backing)
		backing = append(backing, list...)
		return backing[start:len(backing):len(backing)]
	}
	out.GrantTypes = take(c.GrantTypes)
	out.Scopes = take(c.Scopes)
	out.DefaultScopes = take(c.DefaultScopes)
	out.RedirectURIs = take(c.RedirectURIs)
	return &out
}
