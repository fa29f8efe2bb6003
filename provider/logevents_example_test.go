package provider_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/oauth2provider/oauth2provider/provider"
)

// ExampleLogEvents keeps the security log of a Config.Events hook that
// also does something of its own, here counting refresh-token reuse.
func ExampleLogEvents() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey { // a fixed output for the example
				return slog.Attr{}
			}
			return a
		},
	}))
	logEvent := provider.LogEvents(logger)
	var reuses atomic.Int64 // the hook runs concurrently, from every request
	cfg := provider.Config{
		Events: func(ctx context.Context, e provider.Event) {
			if e.Type == provider.EventRefreshReuse {
				reuses.Add(1)
			}
			logEvent(ctx, e)
		},
	}
	// The provider calls the hook; here it is called directly.
	cfg.Events(context.Background(), provider.Event{Type: provider.EventRefreshReuse, ClientID: "web", GrantID: "g1"})
	fmt.Println("reuses counted:", reuses.Load())
	// Output:
	// level=WARN msg="oauth2: refresh_reuse_detected" event=refresh_reuse_detected client_id=web grant_id=g1
	// reuses counted: 1
}
