package provider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// textOnlyClients is a client store over a SQL database that refuses, as
// an error, an ID that is not text it can hold, as Postgres does a NUL
// byte or invalid UTF-8 (before the Postgres store mapped that to not
// found).
type textOnlyClients struct{ storage.ClientStore }

func (s textOnlyClients) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return nil, errors.New("invalid byte sequence for encoding UTF8")
		}
	}
	return s.ClientStore.GetClient(ctx, id)
}

// A client_id no client can have is an unknown client at every endpoint,
// and is not looked up: a store's refusal of it is no outage (503).
func TestMalformedClientIDs(t *testing.T) {
	s := memory.New(memory.Config{})
	providertest.CheckMalformedClientIDs(t, textOnlyClients{s}, s)
}

// A client registered with an ID outside RFC 6749's printable ASCII (the
// stores take any) goes on working: only IDs that are no text are not
// looked up.
func TestNonASCIIClientIDsStillWork(t *testing.T) {
	s := memory.New(memory.Config{})
	p := providertest.NewProviderOn(t, s, s, nil)
	require.NoError(t, s.CreateClient(t.Context(), &storage.Client{ID: "appé", Public: true,
		GrantTypes: []string{storage.GrantPassword}, Scopes: []string{"read"}}))
	form := url.Values{"grant_type": {"password"}, "username": {providertest.Username},
		"password": {providertest.Password}, "client_id": {"appé"}, "scope": {"read"}}
	r := httptest.NewRequest(http.MethodPost, provider.DefaultTokenPath, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	p.TokenHandler().ServeHTTP(rec, r)
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}
