package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/passhash"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/storage"
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

// A password grant whose request ends while the password's check waits
// for an argon2id slot (a server's request timeout, under load) is
// answered alike for an unknown user and a registered one: 503, which
// the provider refunds. An unknown user's dummy check used to wait its
// turn whatever the request's context, then answer 400 invalid_grant
// (counted) where a registered user got 503: whoever could make the
// server busy told the usernames that exist from those that do not.
func TestUnknownUserGivesUpWaitingAsARegisteredOneDoes(t *testing.T) {
	dbURL := storeurltest.Postgres(t)
	pool, err := pgxpool.New(t.Context(), dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	a, err := newApp(t.Context(), pool, options{insecure: true})
	require.NoError(t, err)
	secret, secretHash, err := storage.NewClientSecret()
	require.NoError(t, err)
	require.NoError(t, a.store.CreateClient(t.Context(), &storage.Client{ID: "sidechan-app",
		SecretHash: secretHash, GrantTypes: []string{storage.GrantPassword}, Scopes: []string{"read"}}))
	hash, err := authcheck.HashPassword("foobar42")
	require.NoError(t, err)
	known := storeurltest.UniqueName(t)
	_, err = a.users.AddHash(t.Context(), known, hash)
	require.NoError(t, err)

	type answer struct {
		status     int
		retryAfter string
		body       string
	}
	login := func(username string) answer {
		t.Helper()
		release := passhash.HoldSlots() // every argon2id check waits
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		form := url.Values{"grant_type": {"password"}, "username": {username}, "password": {"foobar42"}}
		r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/oauth2/token", strings.NewReader(form.Encode())).WithContext(ctx)
		r.RemoteAddr = "127.0.0.1:4000"
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("sidechan-app", secret)
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { a.handler.ServeHTTP(w, r); close(done) }()
		select {
		case <-done:
			release()
		case <-time.After(3 * time.Second):
			release() // a check that ignores its context hashes once the slots are free
			<-done
		}
		return answer{w.Code, w.Header().Get("Retry-After"), w.Body.String()}
	}
	want := answer{http.StatusServiceUnavailable, "1",
		`{"error":"temporarily_unavailable","error_description":"the service is temporarily unavailable, try again later"}` + "\n"}
	assert.Equal(t, want, login(known), "registered user")
	assert.Equal(t, want, login("sidechan-nobody"), "unknown user")
}
