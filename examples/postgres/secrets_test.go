package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/servetest"
)

// -help does not print $DATABASE_URL, password included, as the flag's
// default.
func TestHelpHidesThePassword(t *testing.T) {
	servetest.HelpOmits(t, main, "DATABASE_URL=postgres://app:s3cret@db.internal/app?sslmode=verify-full", "db", "s3cret")
}

// A -db URL that does not parse is refused without any part of its
// password in the error, which main writes to stderr: pgx masks it on a
// best-effort basis only, and a password with an unescaped "@" then ":"
// shows the part between them.
func TestParseErrorHidesThePassword(t *testing.T) {
	for _, u := range []string{
		"postgres://app:s3c@r3tpart:x@127.0.0.1:1/app",
		"postgres://app:s3cretpart@127.0.0.1:badport/app",
	} {
		err := serve(context.Background(), u, "127.0.0.1:0", "http://127.0.0.1:0", time.Minute)
		require.Error(t, err, u)
		assert.NotContains(t, err.Error(), "part", u)
		err = addUser(context.Background(), u, "alice", strings.NewReader("pw\n"), io.Discard)
		require.Error(t, err, u)
		assert.NotContains(t, err.Error(), "part", u)
	}
}
