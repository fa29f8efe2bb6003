package gate

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// AtOnce calls call once for each i below n, returns only when they have
// all returned, and gives each its own error at its own index. The calls
// wait for each other, so they must all run at the same time.
func TestAtOnceCallsEachIndexAndWaits(t *testing.T) {
	const n = 16
	var arrived atomic.Int32
	all := make(chan struct{})
	var calls [n]atomic.Int32
	errs := AtOnce(n, func(i int) error {
		calls[i].Add(1)
		if arrived.Add(1) == n {
			close(all)
		}
		select { // every call is running
		case <-all:
		case <-time.After(10 * time.Second):
			return errors.New("not every call ran at the same time")
		}
		if i%3 == 0 {
			return nil
		}
		return fmt.Errorf("call %d", i)
	})
	if len(errs) != n {
		t.Fatalf("%d errors, want %d", len(errs), n)
	}
	for i := range n {
		if got := calls[i].Load(); got != 1 {
			t.Errorf("call(%d) made %d times", i, got)
		}
		var want error
		if i%3 != 0 {
			want = fmt.Errorf("call %d", i)
		}
		if fmt.Sprint(errs[i]) != fmt.Sprint(want) {
			t.Errorf("errs[%d] = %v, want %v", i, errs[i], want)
		}
	}
	if errs := AtOnce(0, func(int) error { return errors.New("called") }); len(errs) != 0 {
		t.Errorf("AtOnce(0) = %v", errs)
	}
}

// No call starts before every goroutine has been started: when the first
// call runs, all n goroutines exist (none can have ended yet). Without
// the gate the first ones start while later ones are being made.
func TestAtOnceReleasesTogether(t *testing.T) {
	const n = 1000
	var first atomic.Bool
	var seen atomic.Int64
	AtOnce(n, func(int) error {
		if first.CompareAndSwap(false, true) {
			seen.Store(int64(runtime.NumGoroutine()))
		}
		return nil
	})
	if got := seen.Load(); got < n {
		t.Errorf("the first call ran with %d goroutines, want at least %d: calls started before all were ready", got, n)
	}
}
