package passhash

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every argon2id check holds its Memory (19 MiB by default) while it
// runs, and the provider checks as many at once as requests arrive
// within the throttle's burst: 30 per client IP (per /64 for IPv6) for
// passwords, 30 more for client secrets a person chose. A few dozen
// unauthenticated requests from one address held over a gigabyte, and
// many addresses (a /48 holds 65536 /64s) any amount. Checks beyond what
// the CPUs can run at once gain no throughput: they wait for a slot, so
// the memory they hold is bounded whatever the number of requests.
func TestArgon2idChecksAtOnceAreBounded(t *testing.T) {
	var inFlight, peak atomic.Int64
	orig := idKey
	t.Cleanup(func() { idKey = orig })
	idKey = func(password, salt []byte, time_, memory uint32, threads uint8, keyLen uint32) []byte {
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond) // as if it were hashing 19 MiB
		defer inFlight.Add(-1)
		return orig(password, salt, time_, memory, threads, keyLen)
	}
	h, err := Hash("pw", cheap)
	require.NoError(t, err)
	peak.Store(0)

	// Several times as many requests as there are CPUs: with a fixed
	// number, a machine with as many CPUs could not fail the test.
	limit := int64(max(runtime.GOMAXPROCS(0), 1))
	requests := max(64, 4*limit)
	var wg sync.WaitGroup
	for range requests {
		wg.Go(func() {
			ok, err := Verify(h, "guess")
			assert.NoError(t, err)
			assert.False(t, ok)
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, peak.Load(), limit, "%d argon2id checks ran at once for %d requests", peak.Load(), requests)
}

// A check waiting for a slot whose request has gone (the client hung up,
// the server's timeout passed) gives up: it would otherwise wait its turn
// and then hash for nobody, delaying every login queued behind it.
func TestVerifyContextGivesUpWhileWaitingForASlot(t *testing.T) {
	h, err := Hash("pw", cheap)
	require.NoError(t, err)
	for range cap(argon2Slots) {
		argon2Slots <- struct{}{} // every slot busy
	}
	t.Cleanup(func() {
		for range cap(argon2Slots) {
			<-argon2Slots
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := VerifyContext(ctx, h, "pw")
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(2 * time.Second):
		t.Fatal("VerifyContext still waits for a slot after its context ended")
	}
}

// A ctx that has ended before the check starts is an error for bcrypt
// hashes too, which wait for no slot: nothing is computed for a request
// that has gone.
func TestVerifyContextEndedBeforeTheCheck(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	a, err := Hash("pw", cheap)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, h := range []string{string(b), a} {
		ok, err := VerifyContext(ctx, h, "pw")
		assert.ErrorIs(t, err, context.Canceled, h)
		assert.False(t, ok, h)
	}
}

// HoldSlots holds every slot, so that an argon2id check waits until its
// ctx ends, and release gives every one back.
func TestHoldSlots(t *testing.T) {
	h, err := Hash("pw", cheap)
	require.NoError(t, err)
	release := HoldSlots()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = VerifyContext(ctx, h, "pw")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a check while every slot is held")
	release()
	assert.Zero(t, len(argon2Slots), "slots still held after release")
	ok, err := Verify(h, "pw")
	require.NoError(t, err)
	assert.True(t, ok)
}
