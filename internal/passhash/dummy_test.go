package passhash

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An unknown user's check costs one argon2id computation, as a wrong
// password does, from the first one a process makes: Dummy computes
// nothing, so it never holds a slot either, nor waits for one whatever the
// request's context. It used to hash on its first call, with no context:
// the first unknown user cost two computations, and while every slot was
// busy its check waited after the request had ended.
func TestDummyIsOneComputationFromTheFirst(t *testing.T) {
	var n atomic.Int32
	orig := idKey
	t.Cleanup(func() { idKey = orig })
	idKey = func(password, salt []byte, time_, memory uint32, threads uint8, keyLen uint32) []byte {
		n.Add(1)
		return orig(password, salt, time_, memory, threads, keyLen)
	}

	release := HoldSlots()
	got := make(chan string, 1)
	go func() { got <- Dummy() }()
	select {
	case <-got:
	case <-time.After(2 * time.Second):
		release()
		<-got
		t.Fatal("Dummy waited for an argon2id slot")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	_, err := VerifyContext(ctx, Dummy(), "pw")
	cancel()
	release()
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a check of the dummy gives up with its context")
	assert.Zero(t, n.Load(), "nothing was computed")

	ok, err := Verify(Dummy(), "pw")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.EqualValues(t, 1, n.Load(), "one computation per check")

	p, _, key, err := parseArgon2id(Dummy())
	require.NoError(t, err)
	assert.Equal(t, Default, p, "the cost of HashPassword's hashes")
	assert.Len(t, key, keyLen)
}
