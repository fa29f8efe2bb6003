package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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

// exchangeCapturingStore records, during each exchange, where the
// presented token's grant ID and the new tokens' scopes point.
type exchangeCapturingStore struct {
	*memory.Store
	grantID *byte
	scopes  [][]*byte
}

func (s *exchangeCapturingStore) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	s.grantID = unsafe.StringData(x.Presented.GrantID)
	s.scopes = s.scopes[:0]
	for _, t := range x.Issue {
		var ps []*byte
		for _, sc := range t.Scopes {
			ps = append(ps, unsafe.StringData(sc))
		}
		s.scopes = append(s.scopes, ps)
	}
	return s.Store.ExchangeToken(ctx, x)
}

// TestRefreshScopesAreNotViewsOfTheRequest: the scopes a narrowing
// refresh stores with its new access token are copies, not views of the
// request body, which the store would otherwise keep alive as long as the
// token. The presented refresh token's grant ID is a view of the body
// (the store uses it only during the call), which says where the body's
// scope value lies.
func TestRefreshScopesAreNotViewsOfTheRequest(t *testing.T) {
	st := &exchangeCapturingStore{Store: memory.New(memory.Config{})}
	require.NoError(t, st.CreateClient(context.Background(), &storage.Client{ID: "conf",
		SecretHash: storage.HashGeneratedSecret(confSecret), GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken},
		Scopes: []string{"read", "write"}}))
	p, err := provider.New(provider.Config{Clients: st, Tokens: st, Users: users, AllowInsecureHTTP: true})
	require.NoError(t, err)
	h := p.TokenHandler()
	rt := assertToken(t, call(h, req{form: password("scope", "read write"), basic: conf}))["refresh_token"].(string)

	form := refresh(rt, "scope", "write")
	body := form.Encode()
	assertToken(t, call(h, req{rawBody: body, basic: conf}))
	require.NotNil(t, st.grantID)
	bodyStart := unsafe.Add(unsafe.Pointer(st.grantID), -(strings.Index(body, rt) + len("ort_")))
	viewOfBody := (*byte)(unsafe.Add(bodyStart, strings.Index(body, "scope=")+len("scope=")))
	require.Len(t, st.scopes, 2)
	require.Len(t, st.scopes[0], 1, "the access token narrows to write")
	assert.NotSame(t, viewOfBody, st.scopes[0][0], "the stored scope is a copy")
}

// TestSessionScopesAreNotTheCallersSlice: the grant of a session holds
// its own copy of the scopes, so that a caller that reuses its slice does
// not change a grant a store keeps as it was handed.
func TestSessionScopesAreNotTheCallersSlice(t *testing.T) {
	st := &capturingStore{Store: memory.New(memory.Config{})}
	p, err := provider.New(provider.Config{Clients: st, Tokens: st, AllowInsecureHTTP: true})
	require.NoError(t, err)
	scopes := []string{"read", "write"}
	_, _, err = p.CreateSession(httptest.NewRequest(http.MethodGet, "/", nil), "user-1", scopes, time.Hour)
	require.NoError(t, err)
	scopes[0] = "admin"
	require.Len(t, st.grants, 1)
	assert.Equal(t, []string{"read", "write"}, st.grants[0].Scopes)
}
