package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// benchProvider is a provider over the memory store with one client whose
// secret is generated (SHA-256-stored) and a trivial password checker, so
// that the benchmarks measure the endpoint, not password hashing.
func benchProvider(b *testing.B) (http.Handler, string) {
	b.Helper()
	st := memory.New(memory.Config{})
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		b.Fatal(err)
	}
	if err := st.CreateClient(context.Background(), &storage.Client{ID: "bench", SecretHash: hash,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken}, Scopes: []string{"read"}}); err != nil {
		b.Fatal(err)
	}
	p, err := provider.New(provider.Config{Clients: st, Tokens: st, AllowInsecureHTTP: true,
		Users: authcheck.Func(func(context.Context, string, string) (string, error) { return "user-1", nil })})
	if err != nil {
		b.Fatal(err)
	}
	return p.TokenHandler(), basicAuth("bench", secret)
}

func tokenRequest(body, authz string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", authz)
	return r
}

func BenchmarkPasswordGrant(b *testing.B) {
	h, authz := benchProvider(b)
	body := url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}, "scope": {"read"}}.Encode()
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, tokenRequest(body, authz))
		if w.Code != http.StatusOK {
			b.Fatal(w.Body.String())
		}
	}
}

func BenchmarkRefreshGrant(b *testing.B) {
	h, authz := benchProvider(b)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, tokenRequest("grant_type=password&username=u&password=p", authz))
	rt := refreshTokenOf(b, w)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, tokenRequest("grant_type=refresh_token&refresh_token="+rt, authz))
		if w.Code != http.StatusOK {
			b.Fatal(w.Body.String())
		}
		rt = refreshTokenOf(b, w)
	}
}

func refreshTokenOf(b *testing.B, w *httptest.ResponseRecorder) string {
	m := body(b, w)
	rt, ok := m["refresh_token"].(string)
	if !ok {
		b.Fatal(w.Body.String())
	}
	return rt
}
