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
	require.NoError(t, s.CreateClient(ctx, &storage.Client{ID: "c1", SecretHash: "x",
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
