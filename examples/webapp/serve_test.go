package main

import (
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/servetest"
)

// The program's real wiring answers HTTP and stops with its context.
func TestServeStartsAndStops(t *testing.T) {
	servetest.StartsAndStops(t, serve)
}
