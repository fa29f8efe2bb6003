package jsclient_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// formTag matches the start tag of an HTML form.
var formTag = regexp.MustCompile(`<form\b[^>]*>`)

// TestReadmeOAuthFormsPost: when the script does not run (JavaScript
// off, the script blocked or not loaded), the browser submits a
// <form class="oauth"> itself, with its method; without method="post"
// that is a GET, which puts the username and password in the URL, where
// browser history, the server's access log and proxies keep them. The
// form the README tells users to copy must post.
func TestReadmeOAuthFormsPost(t *testing.T) {
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	n := 0
	// The README's HTML examples, not its prose.
	html := strings.Join(regexp.MustCompile("(?s)```html\n(.*?)```").FindAllString(string(b), -1), "\n")
	for _, tag := range formTag.FindAllString(html, -1) {
		if !strings.Contains(tag, `class="oauth"`) {
			continue
		}
		n++
		assert.Contains(t, tag, `method="post"`, "a <form class=\"oauth\"> without method=\"post\" sends the password in the URL when the script does not run: %s", tag)
	}
	assert.NotZero(t, n, "the README shows no <form class=\"oauth\">")
}
