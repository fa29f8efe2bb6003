package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/internal/servetest"
)

// A malformed -redis URL is refused without its password in the error,
// which main writes to stderr.
func TestParseErrorHidesThePassword(t *testing.T) {
	err := serve(context.Background(), "127.0.0.1:0", "redis://:s3cret@127.0.0.1:badport/0", "p:")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("want an error without the password, got %v", err)
	}
}

// -help does not print $REDIS_URL, password included, as the flag's
// default.
func TestHelpHidesThePassword(t *testing.T) {
	servetest.HelpOmits(t, main, "REDIS_URL=redis://:s3cret@redis.internal:6379/0", "redis", "s3cret")
}

// TestPageOAuthFormPosts: without JavaScript (or with the script blocked)
// the browser submits the JS client's form itself; a GET would put the
// password in the URL, kept in history and access logs.
func TestPageOAuthFormPosts(t *testing.T) {
	n := 0
	for _, tag := range regexp.MustCompile(`<form\b[^>]*>`).FindAllString(string(page), -1) {
		n++
		assert.Contains(t, tag, `method="post"`, "a form without method=\"post\" sends its fields in the URL: %s", tag)
	}
	assert.Equal(t, 3, n)
}
