package provider_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// A request may name 256 distinct scopes, and no more: the 257th is
// invalid_scope "too many scopes" even when the client may have them
// all (duplicates do not count).
func TestScopeCapIs256(t *testing.T) {
	names := make([]string, 257)
	for i := range names {
		names[i] = "s" + strconv.Itoa(i)
	}
	e := newEnv(t, func(c *provider.Config) { c.Scopes = append(c.Scopes, names...) })
	require.NoError(t, e.store.CreateClient(context.Background(), &storage.Client{ID: "many",
		SecretHash: storage.HashGeneratedSecret(confSecret), GrantTypes: []string{storage.GrantPassword}, Scopes: names}))
	many := []string{"many", confSecret}

	at := strings.Join(names[:256], " ")
	m := assertToken(t, e.do(req{form: password("scope", at+" "+names[0]+" "+names[255]), basic: many}))
	assert.Equal(t, at, m["scope"])

	w := e.do(req{form: password("scope", strings.Join(names, " ")), basic: many})
	assertError(t, w, http.StatusBadRequest, "invalid_scope")
	assert.Equal(t, "too many scopes", body(t, w)["error_description"])
}
