package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/servetest"
	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
)

// The program's real wiring answers HTTP and stops with its context.
func TestServeStartsAndStops(t *testing.T) {
	dbURL := storeurltest.Postgres(t)
	servetest.StartsAndStops(t, func(ctx context.Context, addr string) error {
		return serve(ctx, dbURL, addr, "http://"+addr, time.Minute)
	})
}

// A -janitor interval that is not positive is refused before anything
// starts; it used to pass and crash the server (time.NewTicker panics).
func TestServeRefusesNonPositiveJanitorInterval(t *testing.T) {
	dbURL := storeurltest.Postgres(t)
	for _, every := range []time.Duration{0, -time.Second} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := serve(ctx, dbURL, "127.0.0.1:0", "http://127.0.0.1:0", every)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "-janitor") {
			t.Errorf("serve with -janitor %v: %v, want an error naming -janitor", every, err)
		}
	}
}
