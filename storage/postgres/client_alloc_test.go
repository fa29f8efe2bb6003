package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// TestGetClient_AllocatesNoMoreThanAPlainScan: GetClient is on the path
// of every token request of a client (when Config.ClientCacheTTL is off,
// the default), so reading committed must cost it no allocation over a
// plain QueryRow scanning the row into a Client.
func TestGetClient_AllocatesNoMoreThanAPlainScan(t *testing.T) {
	s, pool := newStore(t, nil)
	ctx := context.Background()
	require.NoError(t, s.CreateClient(ctx, &storage.Client{ID: "c1", SecretHash: storage.HashGeneratedSecret("s"),
		GrantTypes: []string{"password"}, Scopes: []string{"read"}, RedirectURIs: []string{"https://a.example/cb"}}))
	const q = `select id, secret_hash, grant_types, scopes, default_scopes, redirect_uris,
	public, first_party, disabled, created_at, revision from oauth2_clients where id = $1`
	var sink *storage.Client
	id := string([]byte("c1"))
	plain := testing.AllocsPerRun(200, func() {
		var c storage.Client
		if err := pool.QueryRow(ctx, q, id).Scan(&c.ID, &c.SecretHash, &c.GrantTypes, &c.Scopes, &c.DefaultScopes,
			&c.RedirectURIs, &c.Public, &c.FirstParty, &c.Disabled, &c.CreatedAt, &c.Revision); err == nil {
			sink = &c
		}
	})
	got := testing.AllocsPerRun(200, func() { sink, _ = s.GetClient(ctx, id) })
	require.NotNil(t, sink)
	assert.LessOrEqual(t, got, plain, "allocations of GetClient over a plain scan of the row")
}

// A client stored before the stores refused an unreadable SecretHash (the
// secret itself, say) is still read as it is: GetClient and ListClients
// return it unchanged, so the operator can see and fix it. An update that
// keeps that hash is refused with ErrInvalidSecretHash and writes nothing;
// one that sets a readable hash goes through.
func TestClient_StoredUnreadableSecretHashIsReadAsItIs(t *testing.T) {
	s, pool := newStore(t, nil)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `insert into oauth2_clients (id, secret_hash, created_at) values ('legacy', 'plain-secret', now())`)
	require.NoError(t, err)

	c, err := s.GetClient(ctx, "legacy")
	require.NoError(t, err)
	assert.Equal(t, "plain-secret", c.SecretHash)
	list, err := s.ListClients(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "plain-secret", list[0].SecretHash)

	c.Disabled = true
	err = s.UpdateClient(ctx, c)
	require.ErrorIs(t, err, storage.ErrInvalidSecretHash)
	assert.NotContains(t, err.Error(), "plain-secret")
	got, err := s.GetClient(ctx, "legacy")
	require.NoError(t, err)
	assert.False(t, got.Disabled, "nothing written")
	assert.Equal(t, int64(1), got.Revision)

	c.SecretHash = storage.HashGeneratedSecret("new")
	require.NoError(t, s.UpdateClient(ctx, c))
	got, err = s.GetClient(ctx, "legacy")
	require.NoError(t, err)
	assert.True(t, got.VerifySecret("new"))
}
