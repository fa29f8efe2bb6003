package main

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/passhash"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
)

// A login whose request ends while its password's check waits for an
// argon2id slot (the client hung up, the server's timeout passed) gives
// up with the context's error, which the provider answers with 503 and
// refunds, rather than waiting its turn and hashing for nobody.
func TestCheckAuthGivesUpWaitingForAnArgon2Slot(t *testing.T) {
	dbURL := storeurltest.Postgres(t)
	pool, err := pgxpool.New(t.Context(), dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	users, err := NewUsers(t.Context(), pool)
	require.NoError(t, err)
	hash, err := authcheck.HashPassword("foobar42")
	require.NoError(t, err)
	name := storeurltest.UniqueName(t)
	_, err = users.AddHash(t.Context(), name, hash)
	require.NoError(t, err)

	release := passhash.HoldSlots() // every argon2id check waits
	defer release()
	// Long enough for the query, which must find the user first.
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := users.CheckAuth(ctx, name, "foobar42")
		done <- err
	}()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(3 * time.Second):
		t.Fatal("CheckAuth still waits for an argon2id slot after its context ended")
	}
}
