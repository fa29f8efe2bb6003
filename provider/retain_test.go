package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// capturingStore keeps the grants it is asked to create.
type capturingStore struct {
	*memory.Store
	grants []*storage.Grant
}

func (s *capturingStore) CreateGrant(ctx context.Context, g *storage.Grant, toks ...storage.Token) error {
	s.grants = append(s.grants, g)
	return s.Store.CreateGrant(ctx, g, toks...)
}

// TestStoredScopesAreNotViewsOfTheRequest: the scopes of a new grant are
// the client's own strings, not views of the request body, which a store
// would otherwise keep alive as long as the grant.
func TestStoredScopesAreNotViewsOfTheRequest(t *testing.T) {
	st := &capturingStore{Store: memory.New(memory.Config{})}
	scopes := []string{"read", "write"}
	require.NoError(t, st.CreateClient(context.Background(), &storage.Client{ID: "conf",
		SecretHash: storage.HashGeneratedSecret(confSecret), GrantTypes: []string{storage.GrantPassword}, Scopes: scopes}))
	p, err := provider.New(provider.Config{Clients: st, Tokens: st, Users: users, AllowInsecureHTTP: true})
	require.NoError(t, err)
	assertToken(t, call(p.TokenHandler(), req{form: password("scope", "write read"), basic: conf}))
	require.Len(t, st.grants, 1)
	g := st.grants[0]
	require.Equal(t, []string{"write", "read"}, g.Scopes)
	assert.Same(t, unsafe.StringData(scopes[1]), unsafe.StringData(g.Scopes[0]), "write")
	assert.Same(t, unsafe.StringData(scopes[0]), unsafe.StringData(g.Scopes[1]), "read")
}

// TestStoredUserIDIsNotTheCheckersArgument: a checker may return its
// username argument (a view of the request body) as the user ID; the
// grant keeps a copy, not the body.
func TestStoredUserIDIsNotTheCheckersArgument(t *testing.T) {
	st := &capturingStore{Store: memory.New(memory.Config{})}
	require.NoError(t, st.CreateClient(context.Background(), &storage.Client{ID: "conf",
		SecretHash: storage.HashGeneratedSecret(confSecret), GrantTypes: []string{storage.GrantPassword}}))
	var arg *byte
	echo := authcheck.Func(func(_ context.Context, username, password string) (string, error) {
		arg = unsafe.StringData(username)
		return username, nil
	})
	p, err := provider.New(provider.Config{Clients: st, Tokens: st, Users: echo, AllowInsecureHTTP: true})
	require.NoError(t, err)
	assertToken(t, call(p.TokenHandler(), req{form: password(), basic: conf}))
	require.Len(t, st.grants, 1)
	assert.Equal(t, "johndoe", st.grants[0].UserID)
	assert.NotSame(t, arg, unsafe.StringData(st.grants[0].UserID))
	assert.NotSame(t, arg, unsafe.StringData(st.grants[0].Username))
}

// TestBodyLongerThanContentLengthIsRefused: a body that goes on past its
// Content-Length (a wrapper's, as net/http's server ends it there) is
// refused rather than cut, which would drop a parameter unseen.
func TestBodyLongerThanContentLengthIsRefused(t *testing.T) {
	e := newEnv(t, nil)
	body := "grant_type=password&username=johndoe&password=foobar42&scope=write"
	r := httptest.NewRequest(http.MethodPost, "https://auth.example/oauth2/token", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("conf", confSecret)
	r.ContentLength = int64(strings.Index(body, "&scope"))
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	assertError(t, w, 400, "invalid_request")
}
