package main

import (
	"context"
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
