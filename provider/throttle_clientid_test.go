package provider_test

import (
	"context"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// foldingClients is a client store that finds a client whatever the case
// and surrounding spaces of the ID asked for, as one on a MySQL table
// with a case-insensitive PAD SPACE collation does (ViewClient is left
// out, so the provider asks GetClient).
type foldingClients struct{ st *testStore }

func (f foldingClients) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	return f.st.GetClient(ctx, strings.ToLower(strings.TrimSpace(id)))
}

func (f foldingClients) CreateClient(ctx context.Context, c *storage.Client) error {
	return f.st.CreateClient(ctx, c)
}

func (f foldingClients) UpdateClient(ctx context.Context, c *storage.Client) error {
	return f.st.UpdateClient(ctx, c)
}

func (f foldingClients) ListClients(ctx context.Context) ([]*storage.Client, error) {
	return f.st.ListClients(ctx)
}

// A store that takes several spellings of a client ID for one client
// must not give each spelling a fresh per-(client ID, IP) budget for
// guessing the client's secret: the key is the ID of the client found.
func TestThrottleClientIDSpellingsShareABudget(t *testing.T) {
	e := newEnv(t, nil)
	var err error
	e.p, err = provider.New(provider.Config{
		Clients: foldingClients{e.store},
		Tokens:  e.store,
		Users:   users,
		Scopes:  []string{"read", "write", "admin", "profile"},
		Realm:   "test-realm",
		Now:     e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.h = e.p.TokenHandler()
	for range provider.DefaultClientRate.Burst {
		assertError(t, e.do(req{form: password(), basic: []string{"human", "wrong"}}), 401, "invalid_client")
	}
	for _, id := range []string{"HUMAN", "Human", "human "} {
		assertThrottled(t, e.do(req{form: password(), basic: []string{id, "wrong"}}), "60")
	}
}
