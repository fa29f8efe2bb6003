package postgres_test

import (
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
)

// Through the provider: a validation is one statement, a refresh one
// with the client cache and two without it, a password grant two (the
// grant's batch is one). A statement prepared on the
// way would be one more round trip, and is counted as one.
func TestStatements_ThroughTheProvider(t *testing.T) {
	providertest.CheckRoundTrips(t, func(t *testing.T) providertest.Store {
		s, clk, counter := newCountedStore(t)
		return providertest.Store{Clients: s, Tokens: s, Now: clk.Now,
			Trips: func() int64 { return counter.queries.Load() + counter.prepares.Load() }}
	})
}

// A client_id Postgres cannot hold as text (a NUL byte, invalid UTF-8) is
// an unknown client at every endpoint, not an outage.
func TestMalformedClientIDs_ThroughTheProvider(t *testing.T) {
	s, _ := newStore(t, nil)
	providertest.CheckMalformedClientIDs(t, s, s)
}
