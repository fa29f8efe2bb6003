package clientmod

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// A change that reports nothing to do writes nothing: the client's
// revision stays, so a concurrent writer holding it is not sent into a
// needless conflict.
func TestModifyWritesNothingWhenUnchanged(t *testing.T) {
	ctx := context.Background()
	m := memory.New(memory.Config{})
	require.NoError(t, m.CreateClient(ctx, &storage.Client{ID: "app", Public: true, Disabled: true}))
	calls := 0
	err := Modify(ctx, m, "app", func(c *storage.Client) (bool, error) {
		calls++
		if c.Disabled {
			return false, nil
		}
		c.Disabled = true
		return true, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
	c, err := m.GetClient(ctx, "app")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Revision, "an unchanged client was written")
}

// racingStore is a client store whose client is written by someone else
// just before each of the first races updates that Modify makes, so
// that the update carries a stale revision; failUpdate, when set, is
// the error every update returns instead.
type racingStore struct {
	storage.ClientStore
	races      int
	failUpdate error
	updates    int
}

func (s *racingStore) UpdateClient(ctx context.Context, c *storage.Client) error {
	s.updates++
	if s.failUpdate != nil {
		return s.failUpdate
	}
	if s.races > 0 {
		s.races--
		other, err := s.ClientStore.GetClient(ctx, c.ID)
		if err != nil {
			return err
		}
		other.RedirectURIs = append(other.RedirectURIs, "https://app.example/cb")
		if err := s.ClientStore.UpdateClient(ctx, other); err != nil {
			return err
		}
	}
	return s.ClientStore.UpdateClient(ctx, c)
}

func newRacingStore(t *testing.T, races int) *racingStore {
	t.Helper()
	m := memory.New(memory.Config{})
	require.NoError(t, m.CreateClient(context.Background(), &storage.Client{ID: "app", Public: true}))
	return &racingStore{ClientStore: m, races: races}
}

func disable(calls *int) func(*storage.Client) (bool, error) {
	return func(c *storage.Client) (bool, error) {
		*calls++
		c.Disabled = true
		return true, nil
	}
}

// A concurrent write between the read and the update is not lost: the
// update conflicts, and Modify reads the client again and changes that,
// for a few conflicts in a row (a Tries of 1 or 2 would give up at once).
func TestModifyRetriesAConflict(t *testing.T) {
	ctx := context.Background()
	for _, races := range []int{1, 3, Tries - 1} {
		s := newRacingStore(t, races)
		calls := 0
		require.NoError(t, Modify(ctx, s, "app", disable(&calls)), races)
		assert.Equal(t, races+1, calls, "change called once per read")
		c, err := s.GetClient(ctx, "app")
		require.NoError(t, err)
		assert.True(t, c.Disabled)
		assert.Len(t, c.RedirectURIs, races, "the concurrent writes were lost")
	}
}

// After Tries conflicts in a row Modify returns the last ErrConflict,
// having read and changed the client exactly Tries times.
func TestModifyGivesUpAfterTries(t *testing.T) {
	ctx := context.Background()
	s := newRacingStore(t, Tries)
	calls := 0
	err := Modify(ctx, s, "app", disable(&calls))
	assert.ErrorIs(t, err, storage.ErrConflict)
	assert.Equal(t, Tries, calls)
	assert.Equal(t, Tries, s.updates)
	c, err := s.GetClient(ctx, "app")
	require.NoError(t, err)
	assert.False(t, c.Disabled, "a change written after giving up")
}

// The store's errors and change's are returned as they are, at once.
func TestModifyReturnsErrors(t *testing.T) {
	ctx := context.Background()

	s := newRacingStore(t, 0)
	calls := 0
	err := Modify(ctx, s, "absent", disable(&calls))
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.Zero(t, calls, "change called on a client that was not read")

	refused := errors.New("refused")
	err = Modify(ctx, s, "app", func(c *storage.Client) (bool, error) {
		c.Disabled = true
		return true, refused
	})
	assert.Same(t, refused, err)
	assert.Zero(t, s.updates, "a change that failed was written")

	down := errors.New("backend down")
	s.failUpdate = down
	calls = 0
	err = Modify(ctx, s, "app", disable(&calls))
	assert.Same(t, down, err)
	assert.Equal(t, 1, calls, "an update that failed otherwise than by a conflict was retried")
}

// failingStore fails its reads or its writes with errDown.
type failingStore struct {
	storage.ClientStore
	failRead, failWrite bool
}

var errDown = errors.New("store down")

func (f *failingStore) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	if f.failRead {
		return nil, errDown
	}
	return f.ClientStore.GetClient(ctx, id)
}

func (f *failingStore) UpdateClient(ctx context.Context, c *storage.Client) error {
	if f.failWrite {
		return errDown
	}
	return f.ClientStore.UpdateClient(ctx, c)
}

// ModifyOutcome tells a failed write, whose outcome is unknown, from a
// failed read; both return the store's error as it is.
func TestModifyOutcomeTellsAFailedWriteFromAFailedRead(t *testing.T) {
	ctx := context.Background()
	m := memory.New(memory.Config{})
	require.NoError(t, m.CreateClient(ctx, &storage.Client{ID: "app", Public: true}))
	disable := func(c *storage.Client) (bool, error) { c.Disabled = true; return true, nil }

	writeFailed, err := ModifyOutcome(ctx, &failingStore{ClientStore: m, failWrite: true}, "app", disable)
	assert.Same(t, errDown, err)
	assert.True(t, writeFailed)

	writeFailed, err = ModifyOutcome(ctx, &failingStore{ClientStore: m, failRead: true}, "app", disable)
	assert.Same(t, errDown, err)
	assert.False(t, writeFailed, "a failed read wrote nothing")

	writeFailed, err = ModifyOutcome(ctx, m, "app", disable)
	require.NoError(t, err)
	assert.False(t, writeFailed)
}
