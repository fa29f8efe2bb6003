package storagetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// clientClauses check storage.ClientStore.
var clientClauses = []clause{
	{"CreateGetRoundTrip", testClientRoundTrip},
	{"CreateDuplicateIsAlreadyExists", testClientDuplicate},
	{"GetUnknownIsNotFound", testClientUnknown},
	{"UpdateReplaces", testClientUpdate},
	{"UpdateUnknownIsNotFound", testClientUpdateUnknown},
	{"ListOrderedByID", testClientList},
	{"ValuesAreCopies", testClientCopies},
	{"ViewClientSeesWhatGetClientDoes", testClientView},
}

// fullClient returns a confidential client with every field set; its
// CreatedAt has a sub-second part.
func (e *env) fullClient(id string) *storage.Client {
	return &storage.Client{
		ID:            id,
		SecretHash:    storage.HashGeneratedSecret("secret-of-" + id),
		GrantTypes:    []string{storage.GrantPassword, storage.GrantRefreshToken, storage.GrantAuthorizationCode},
		Scopes:        []string{"read", "write", "admin"},
		DefaultScopes: []string{"read"},
		RedirectURIs:  []string{"https://app.example/cb", "http://127.0.0.1:8080/cb"},
		FirstParty:    true,
		CreatedAt:     e.clk.Now().Add(-time.Hour + 123456789*time.Nanosecond),
	}
}

// assertClient checks every field of got against want.
func assertClient(t *testing.T, want, got *storage.Client) {
	t.Helper()
	require.NotNil(t, got, "client")
	assert.Equal(t, want.ID, got.ID, "Client.ID")
	assert.Equal(t, want.SecretHash, got.SecretHash, "Client.SecretHash")
	sameList(t, want.GrantTypes, got.GrantTypes, "Client.GrantTypes")
	sameList(t, want.Scopes, got.Scopes, "Client.Scopes")
	sameList(t, want.DefaultScopes, got.DefaultScopes, "Client.DefaultScopes")
	sameList(t, want.RedirectURIs, got.RedirectURIs, "Client.RedirectURIs")
	assert.Equal(t, want.Public, got.Public, "Client.Public")
	assert.Equal(t, want.FirstParty, got.FirstParty, "Client.FirstParty")
	assert.Equal(t, want.Disabled, got.Disabled, "Client.Disabled")
	sameTime(t, want.CreatedAt, got.CreatedAt, "Client.CreatedAt")
}

func testClientRoundTrip(t *testing.T, e *env) {
	confidential := e.fullClient("confidential")
	public := &storage.Client{
		ID:         "public",
		GrantTypes: []string{storage.GrantAuthorizationCode},
		Public:     true,
		Disabled:   true,
		CreatedAt:  e.clk.Now().Add(987654321 * time.Nanosecond),
	}
	for _, c := range []*storage.Client{confidential, public} {
		require.NoError(t, e.b.Clients.CreateClient(e.ctx, c), "CreateClient(%s)", c.ID)
	}
	for _, want := range []*storage.Client{confidential, public} {
		got, err := e.b.Clients.GetClient(e.ctx, want.ID)
		require.NoError(t, err, "GetClient(%s)", want.ID)
		assertClient(t, want, got)
	}
	got, err := e.b.Clients.GetClient(e.ctx, confidential.ID)
	require.NoError(t, err)
	assert.True(t, got.VerifySecret("secret-of-confidential"), "the stored secret hash still verifies")
}

func testClientDuplicate(t *testing.T, e *env) {
	first := e.fullClient("dup")
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, first))
	second := e.fullClient("dup")
	second.Scopes = []string{"other"}
	second.Disabled = true
	assert.ErrorIs(t, e.b.Clients.CreateClient(e.ctx, second), storage.ErrAlreadyExists)
	got, err := e.b.Clients.GetClient(e.ctx, "dup")
	require.NoError(t, err)
	assertClient(t, first, got) // the first one is untouched
}

func testClientUnknown(t *testing.T, e *env) {
	got, err := e.b.Clients.GetClient(e.ctx, "nobody")
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.Nil(t, got)
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.fullClient("somebody")))
	_, err = e.b.Clients.GetClient(e.ctx, "Somebody")
	assert.ErrorIs(t, err, storage.ErrNotFound, "client IDs are case-sensitive")
}

func testClientUpdate(t *testing.T, e *env) {
	c := e.fullClient("upd")
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, c))

	updated := e.fullClient("upd")
	updated.SecretHash = storage.HashGeneratedSecret("rotated")
	updated.GrantTypes = []string{storage.GrantClientCredentials}
	updated.Scopes = []string{"read"}
	updated.DefaultScopes = nil
	updated.RedirectURIs = []string{"https://new.example/cb"}
	updated.FirstParty = false
	updated.Disabled = true
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, updated))
	got, err := e.b.Clients.GetClient(e.ctx, "upd")
	require.NoError(t, err, "a disabled client is still returned")
	assertClient(t, updated, got)

	updated.Disabled = false
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, updated))
	got, err = e.b.Clients.GetClient(e.ctx, "upd")
	require.NoError(t, err)
	assert.False(t, got.Disabled, "re-enabled")
}

func testClientUpdateUnknown(t *testing.T, e *env) {
	assert.ErrorIs(t, e.b.Clients.UpdateClient(e.ctx, e.fullClient("ghost")), storage.ErrNotFound)
	_, err := e.b.Clients.GetClient(e.ctx, "ghost")
	assert.ErrorIs(t, err, storage.ErrNotFound, "update does not create")
}

func testClientList(t *testing.T, e *env) {
	list, err := e.b.Clients.ListClients(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, list, "a fresh store has no clients")

	for _, id := range []string{"charlie", "alpha", "delta", "bravo"} {
		require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.fullClient(id)))
	}
	list, err = e.b.Clients.ListClients(e.ctx)
	require.NoError(t, err)
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	assert.Equal(t, []string{"alpha", "bravo", "charlie", "delta"}, ids)
	for _, c := range list {
		assertClient(t, e.fullClient(c.ID), c)
	}
}

func testClientCopies(t *testing.T, e *env) {
	c := e.fullClient("copy")
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, c))
	c.Scopes[0] = "mutated-after-create"
	c.Disabled = true

	got, err := e.b.Clients.GetClient(e.ctx, "copy")
	require.NoError(t, err)
	assertClient(t, e.fullClient("copy"), got)
	got.Scopes[0] = "mutated-after-get"
	got.GrantTypes = append(got.GrantTypes[:0], storage.GrantClientCredentials)
	got.Disabled = true

	again, err := e.b.Clients.GetClient(e.ctx, "copy")
	require.NoError(t, err)
	assertClient(t, e.fullClient("copy"), again)
}

// testClientView checks ViewClient, when the store is a
// storage.ClientViewer: it finds what GetClient finds, and a client viewed
// before an update is not changed by it.
func testClientView(t *testing.T, e *env) {
	v, ok := e.b.Clients.(storage.ClientViewer)
	if !ok {
		t.Skip("the client store is no storage.ClientViewer")
	}
	_, err := v.ViewClient(e.ctx, "nobody")
	assert.ErrorIs(t, err, storage.ErrNotFound)

	require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.fullClient("view")))
	before, err := v.ViewClient(e.ctx, "view")
	require.NoError(t, err)
	assertClient(t, e.fullClient("view"), before)

	updated := e.fullClient("view")
	updated.Scopes = []string{"other"}
	updated.Disabled = true
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, updated))
	after, err := v.ViewClient(e.ctx, "view")
	require.NoError(t, err, "a disabled client is still returned")
	assertClient(t, updated, after)
	assertClient(t, e.fullClient("view"), before) // what was viewed stays as it was
}
