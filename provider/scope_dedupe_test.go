package provider_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// TestDefaultScopesAreGrantedOnce: a client whose DefaultScopes name a
// scope twice gets it once when it asks for none (RFC 6749 §3.3: the
// scope is a set).
func TestDefaultScopesAreGrantedOnce(t *testing.T) {
	e := newEnv(t, nil)
	require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{
		ID: "dup", SecretHash: storage.HashGeneratedSecret(confSecret),
		GrantTypes: []string{storage.GrantPassword}, Scopes: []string{"read", "write"},
		DefaultScopes: []string{"read", "write", "read"}}))
	m := assertToken(t, e.do(req{form: password(), basic: []string{"dup", confSecret}}))
	assert.Equal(t, "read write", m["scope"])
}
