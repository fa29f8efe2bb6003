package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/testclock"
	"github.com/oauth2provider/oauth2provider/storage"
)

// Backend is one fresh, empty store under test.
type Backend struct {
	// Clients is the client store under test. Required.
	Clients storage.ClientStore
	// Tokens is the token store under test. Required.
	Tokens storage.TokenStore
	// Dump, when not nil, returns everything the backend holds, as bytes,
	// for the check that no raw token is stored. When nil that check is
	// skipped.
	Dump func(ctx context.Context) ([]byte, error)
}

// Factory returns a fresh, empty backend whose clock is now (stores take a
// `Now func() time.Time` in their Config). It registers its own cleanup with
// t.Cleanup.
type Factory func(t *testing.T, now func() time.Time) Backend

// clause is one contract clause: a named check run on a fresh backend.
type clause struct {
	name string
	run  func(t *testing.T, e *env)
}

// group is a named list of clauses, one level of subtests.
type group struct {
	name    string
	clauses []clause
}

// Run runs every contract clause as a named subtest, each on a fresh backend.
func Run(t *testing.T, newBackend Factory) {
	t.Helper()
	groups := []group{
		{"Clients", clientClauses},
		{"ClientSecretHash", secretHashClauses},
		{"Tokens", tokenClauses},
		{"Exchange", exchangeClauses},
		{"Extend", extendClauses},
		{"Revoke", revokeClauses},
		{"AtRest", atRestClauses},
		{"Cleaner", cleanerClauses},
		{"Code", codeClauses},
		{"Bind", bindClauses},
		{"Promises", promiseClauses},
		{"ReuseGrace", graceClauses},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.clauses {
				t.Run(c.name, func(t *testing.T) {
					clk := newClock()
					b := newBackend(t, clk.Now)
					require.NotNil(t, b.Clients, "Backend.Clients")
					require.NotNil(t, b.Tokens, "Backend.Tokens")
					c.run(t, &env{b: b, clk: clk, ctx: t.Context()})
				})
			}
		})
	}
}

// clock is a controllable clock, safe for concurrent use.
type clock = testclock.Clock

// newClock returns a clock set to a whole second a little in the future of
// the real time, so that a backend which also hands expiry to its server
// (a Redis TTL) does not see records that are already past.
func newClock() *clock {
	return testclock.New(time.Now().UTC().Truncate(time.Second).Add(time.Minute))
}

// env is what a clause works with: the backend, its clock and a context.
type env struct {
	b   Backend
	clk *clock
	ctx context.Context
}
