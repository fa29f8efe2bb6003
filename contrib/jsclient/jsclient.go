// Package jsclient serves oauth_client.js, the browser client of
// oauth2provider: one dependency-free script that turns every
// <form class="oauth"> into an OAuth 2.0 password grant (RFC 6749 §4.3),
// keeps the access and refresh tokens in memory only, renews them with the
// refresh token (RFC 6749 §6), attaches them to the app's same-origin calls
// as an RFC 6750 bearer token and revokes them on logout (RFC 7009).
//
// Mount [Handler] at a path of your choice and load the script from there:
//
//	mux.Handle("GET /js/oauth_client.js", jsclient.Handler())
//
// The JavaScript API (window.OAuthClient) is described in README.md.
package jsclient

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
)

//go:embed oauth_client.js
var script []byte

// etag is a strong validator derived from the script's content, so it
// changes exactly when the script does.
var etag = func() string {
	sum := sha256.Sum256(script)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}()

// Script returns a copy of oauth_client.js, for apps that inline or bundle
// it themselves.
func Script() []byte { return append([]byte(nil), script...) }

// Handler returns an http.Handler that serves oauth_client.js for GET and
// HEAD at whatever path it is mounted on, as text/javascript with
// X-Content-Type-Options: nosniff, a strong ETag and Cache-Control: no-cache
// (browsers revalidate on every load and get 304 Not Modified while the
// script is unchanged). Other methods get 405 Method Not Allowed with an
// Allow header. The handler is safe for concurrent use.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", etag)
	if noneMatch(r.Header.Values("If-None-Match")) {
		h.Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(script)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(script)
}

// noneMatch reports whether an If-None-Match header lists our ETag (weak
// comparison, RFC 9110 §13.1.2) or is "*". Its lines are one list. An
// entity-tag is read whole, quotes to quotes: its opaque part may hold
// commas (and a "*"), which splitting the list at every comma would take
// for separators. A header that is neither "*" nor a list of entity-tags
// (empty elements allowed, RFC 9110 §5.6.1) matches nothing, even if our
// tag is in it: the condition is then true (§13.1.2, step 3).
func noneMatch(values []string) bool {
	field := strings.Join(values, ",")
	if strings.Trim(field, " \t") == "*" {
		return true
	}
	match := false
	for rest := field; ; {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			return match
		}
		tag, after, ok := cutEntityTag(rest)
		if !ok {
			return false
		}
		match = match || tag == etag
		rest = strings.TrimLeft(after, " \t")
		if rest != "" && rest[0] != ',' {
			return false // no separator after the tag
		}
	}
}

// cutEntityTag reads the entity-tag at the start of s (RFC 9110 §8.8.3:
// an optional "W/", then DQUOTE *etagc DQUOTE, etagc being any byte but
// controls, space, DQUOTE and DEL) and returns its opaque part with the
// quotes, and what follows it; ok is false if s does not start with one.
func cutEntityTag(s string) (opaque, rest string, ok bool) {
	s = strings.TrimPrefix(s, "W/")
	if s == "" || s[0] != '"' {
		return "", "", false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[:i+1], s[i+1:], true
		case c <= ' ' || c == 0x7f:
			return "", "", false
		}
	}
	return "", "", false
}
