package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// racingClients is a client store whose UpdateClient first runs a
// competing write through the store itself, as another process whose
// write lands between the caller's read and its update would: on the
// first call only, or on every call when always is set.
type racingClients struct {
	storage.ClientStore
	compete func(ctx context.Context, s storage.ClientStore) error
	always  bool
	updates int
}

func (r *racingClients) UpdateClient(ctx context.Context, c *storage.Client) error {
	r.updates++
	if r.updates == 1 || r.always {
		if err := r.compete(ctx, r.ClientStore); err != nil {
			return err
		}
	}
	return r.ClientStore.UpdateClient(ctx, c)
}

// racingStore returns a memory store with the confidential client "app"
// and a racingClients over it running compete.
func racingStore(t *testing.T, compete func(c *storage.Client)) (*memory.Store, *racingClients) {
	t.Helper()
	ctx := context.Background()
	m := memory.New(memory.Config{})
	require.NoError(t, m.CreateClient(ctx, &storage.Client{
		ID: "app", SecretHash: storage.HashGeneratedSecret("old"), GrantTypes: []string{storage.GrantClientCredentials},
	}))
	return m, &racingClients{ClientStore: m, compete: func(ctx context.Context, s storage.ClientStore) error {
		c, err := s.GetClient(ctx, "app")
		if err != nil {
			return err
		}
		compete(c)
		return s.UpdateClient(ctx, c)
	}}
}

// A disable that writes between the rotation's read and its update stays:
// the rotation reads the client again and rotates the disabled one.
func TestRotateSecret_RacingDisableStaysAndRotationLands(t *testing.T) {
	m, rc := racingStore(t, func(c *storage.Client) { c.Disabled = true })
	hash := storage.HashGeneratedSecret("new")
	require.NoError(t, setSecretHash(context.Background(), rc, "app", hash))
	assert.Equal(t, 2, rc.updates, "one conflict, one retry")

	c, err := m.GetClient(context.Background(), "app")
	require.NoError(t, err)
	assert.True(t, c.Disabled, "the disable is not undone")
	assert.True(t, c.VerifySecret("new"), "the new secret landed")
	assert.Equal(t, int64(3), c.Revision, "created, disabled, rotated")
}

// A client made public in between is refused when read again, and stays
// as the competing write left it.
func TestRotateSecret_ClientMadePublicInBetweenIsRefused(t *testing.T) {
	m, rc := racingStore(t, func(c *storage.Client) { c.Public, c.SecretHash = true, "" })
	err := setSecretHash(context.Background(), rc, "app", storage.HashGeneratedSecret("new"))
	assert.ErrorContains(t, err, "is public")

	c, err := m.GetClient(context.Background(), "app")
	require.NoError(t, err)
	assert.True(t, c.Public)
	assert.Empty(t, c.SecretHash, "no secret given to a public client")
}

// A client that changes before every update is given up on after a few
// tries, with ErrConflict; the competing writes are all kept.
func TestRotateSecret_GivesUpAfterRepeatedConflicts(t *testing.T) {
	m, rc := racingStore(t, func(c *storage.Client) { c.Scopes = append(c.Scopes, "x") })
	rc.always = true
	err := setSecretHash(context.Background(), rc, "app", storage.HashGeneratedSecret("new"))
	require.ErrorIs(t, err, storage.ErrConflict)
	assert.Equal(t, maxRotateTries, rc.updates, "bounded tries")

	c, err := m.GetClient(context.Background(), "app")
	require.NoError(t, err)
	assert.True(t, c.VerifySecret("old"), "not rotated")
	assert.Len(t, c.Scopes, maxRotateTries)
}

func TestRotateSecret_UnknownClient(t *testing.T) {
	_, rc := racingStore(t, func(*storage.Client) {})
	assert.EqualError(t, setSecretHash(context.Background(), rc, "nosuch", "h"), "no client nosuch")
}

// lostAnswerClients is a client store whose UpdateClient writes and then
// fails, as a store does whose answer is lost (a timeout after the
// commit, a connection dropped on the way back).
type lostAnswerClients struct{ storage.ClientStore }

func (l lostAnswerClients) UpdateClient(ctx context.Context, c *storage.Client) error {
	if err := l.ClientStore.UpdateClient(ctx, c); err != nil {
		return err
	}
	return context.DeadlineExceeded
}

// An update whose outcome is unknown may have replaced the secret, so the
// old one may have stopped working: the error says so and how to get a
// secret the operator holds, not a bare timeout that reads as "nothing
// changed".
func TestRotateSecret_UpdateOfUnknownOutcomeSaysRotateAgain(t *testing.T) {
	m, _ := racingStore(t, func(*storage.Client) {})
	hash := storage.HashGeneratedSecret("s3cretNew")
	err := setSecretHash(context.Background(), lostAnswerClients{m}, "app", hash)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "may have been replaced")
	assert.Contains(t, err.Error(), `"oauth2ctl client rotate-secret app"`)
	assert.NotContains(t, err.Error(), "s3cretNew")
	assert.NotContains(t, err.Error(), hash)
}

// A store that fails before anything is written (the read) says only its
// error: nothing changed.
func TestRotateSecret_FailedReadChangesNothing(t *testing.T) {
	m, _ := racingStore(t, func(*storage.Client) {})
	err := setSecretHash(context.Background(), failingGet{m}, "app", storage.HashGeneratedSecret("new"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), "may have been replaced")
}

// failingGet is a client store whose GetClient fails.
type failingGet struct{ storage.ClientStore }

func (failingGet) GetClient(context.Context, string) (*storage.Client, error) {
	return nil, context.DeadlineExceeded
}
