package docs_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/oauth2provider/oauth2provider/storage/storagetest"
)

// janitor deletes expired and revoked records of a Postgres store (any
// storage.Cleaner) in bounded batches, every interval, until ctx ends.
// It is the janitor of docs/storage.md.
func janitor(ctx context.Context, store storage.Cleaner, interval time.Duration) {
	const batch = 1000
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		for {
			n, err := store.DeleteExpired(ctx, batch)
			if err != nil {
				slog.Warn("janitor", "err", err) // an outage: try again next tick
				break
			}
			if n < batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// The janitor of docs/storage.md deletes in batches until a batch comes
// back short, then waits for the next tick or the end of ctx.
func TestStorageGuideJanitorDrainsThenStops(t *testing.T) {
	c := &scriptedCleaner{results: []int{1000, 1000, 3}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the first round runs, then the janitor sees ctx is done
	janitor(ctx, c, time.Hour)
	if c.calls != 3 {
		t.Fatalf("DeleteExpired called %d times, want 3", c.calls)
	}
}

// scriptedCleaner is a Cleaner that returns the given counts in turn.
type scriptedCleaner struct {
	results []int
	calls   int
}

func (c *scriptedCleaner) DeleteExpired(context.Context, int) (int, error) {
	c.calls++
	if c.calls > len(c.results) {
		return 0, nil
	}
	return c.results[c.calls-1], nil
}

// The conformance test of docs/storage.md, on the memory store.
func TestStorageGuideConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, now func() time.Time) storagetest.Backend {
		s := memory.New(memory.Config{Now: now})
		return storagetest.Backend{Clients: s, Tokens: s}
	})
}
