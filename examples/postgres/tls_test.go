package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A -db URL for a host beyond the loopback interface that does not choose
// sslmode is refused before any connection, as oauth2ctl refuses it in the
// same set-up: pgx's default, prefer, checks no certificate and falls back
// to plain text, so the password, the users' hashes and the tokens could
// cross the network in clear.
func TestRefusesADatabaseURLWithoutATLSChoiceOffLoopback(t *testing.T) {
	t.Setenv("PGSSLMODE", "")
	for _, u := range []string{
		"postgres://app:pw@db.example.invalid/app",
		"postgres://app:pw@db.example.invalid/app?sslmode=",
		"postgres://app:pw@127.0.0.1:1,db.example.invalid:5432/app",
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err := serve(ctx, u, "127.0.0.1:0", "http://127.0.0.1:0", time.Minute)
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), "sslmode", u)
		err = addUser(ctx, u, "alice", strings.NewReader("pw\n"), io.Discard)
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), "sslmode", u)
		cancel()
	}
}
