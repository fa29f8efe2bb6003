package main

import (
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/servetest"
)

// -help does not print $DATABASE_URL, password included, as the flag's
// default.
func TestHelpHidesThePassword(t *testing.T) {
	servetest.HelpOmits(t, main, "DATABASE_URL=postgres://app:s3cret@db.internal/app?sslmode=verify-full", "db", "s3cret")
}
