package provider_test

import (
	"context"
	"errors"
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
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
