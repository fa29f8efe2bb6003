package storeurl

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/oauth2provider/oauth2provider/storage"
)

// DefaultTimeout bounds each store call, and a connection attempt, when
// [Options.Timeout] is zero.
const DefaultTimeout = 5 * time.Second

// ErrUnsupported reports a URL whose scheme names no backend this package
// opens. Check it with [errors.Is].
var ErrUnsupported = errors.New("storeurl: unsupported store URL: want postgres://, postgresql://, redis://, rediss://, redis+cluster:// or rediss+cluster://")

// Backend names the kind of store a URL opened.
type Backend string

// Backends [Open] knows.
const (
	Postgres Backend = "postgres"
	Redis    Backend = "redis"
)

// Options configures [Open].
type Options struct {
	// Now is the stores' clock, against which expiry is judged. Nil means
	// time.Now.
	Now func() time.Time
	// Timeout bounds each store call (and each connection attempt) on top
	// of the caller's context. Zero means DefaultTimeout; negative means
	// no bound other than the caller's context.
	Timeout time.Duration
}

// Stores are the stores a URL opened. Close them after the last use.
type Stores struct {
	// Backend is the kind of store: Postgres or Redis.
	Backend Backend
	// Clients keeps registered clients.
	Clients storage.ClientStore
	// Tokens keeps grants and token hashes.
	Tokens storage.TokenStore
	// Cleaner removes expired records in batches (Postgres); nil when the
	// backend expires records itself (Redis).
	Cleaner storage.Cleaner
	// Limiter is a brute-force limiter shared by every instance on the
	// same backend (Redis); nil when the backend has none (Postgres).
	Limiter storage.Limiter

	migrate       func(context.Context) error
	schemaVersion func(context.Context) (current, latest int32, err error)
	close         func()
}

// Open connects to the store that rawURL names, checks that the server
// answers (within the timeout) and returns its stores. It does not
// migrate: call [Stores.Migrate] for that. Errors never contain the URL's
// password.
func Open(ctx context.Context, rawURL string, o Options) (*Stores, error) {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, ErrUnsupported
	}
	// A "#" before the last "@" ends the URL's authority there, inside
	// the password (a store URL has no fragment): the drivers would read
	// a host, a port or nothing from its first piece, and dial that.
	if splitsPassword(rawURL, "#") {
		return nil, fmt.Errorf("storeurl: open %s: %w", Redact(rawURL), errSplitPassword)
	}
	var (
		s   *Stores
		err error
	)
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		s, err = openPostgres(ctx, rawURL, o)
	case "redis", "rediss", "redis+cluster", "rediss+cluster":
		s, err = openRedis(ctx, rawURL, o)
	default:
		return nil, ErrUnsupported
	}
	if err != nil {
		return nil, fmt.Errorf("storeurl: open %s: %w", Redact(rawURL), err)
	}
	if o.Timeout > 0 {
		s.bound(o.Timeout)
	}
	return s, nil
}

// Migrate brings the schema up to date (Postgres, safe to run from several
// processes at once); for Redis, which has no schema, it does nothing.
func (s *Stores) Migrate(ctx context.Context) error {
	if s.migrate == nil {
		return nil
	}
	return s.migrate(ctx)
}

// SchemaVersion returns the schema version the database holds (0 before
// the first migration: no version table yet) and the version this
// binary's migrations bring it to (Postgres); for Redis, which has no
// schema, 0 and 0.
func (s *Stores) SchemaVersion(ctx context.Context) (current, latest int32, err error) {
	if s.schemaVersion == nil {
		return 0, 0, nil
	}
	return s.schemaVersion(ctx)
}

// Close releases the connections. The stores must not be used afterwards.
func (s *Stores) Close() {
	if s.close != nil {
		s.close()
	}
}

// Redact returns rawURL with its password, in the user information or in
// a password= or sslpassword= parameter, replaced by "xxxxx", for messages
// and logs, and every rune that does not print escaped (see [Printable]).
func Redact(rawURL string) string { return Printable(redact(rawURL)) }

// RedactUnescaped is Redact without the escaping, for a caller that
// escapes what it shows itself (with %q, say): escaping twice would show
// \\x1b for \x1b. Never show its result as it is.
func RedactUnescaped(rawURL string) string { return redact(rawURL) }

// Printable returns s with every rune that does not print (a control
// character, an invisible format character, a byte that is not UTF-8)
// escaped as Go writes it in a quoted string (\x1b, \u200b, \xff), so that
// text a message echoes cannot act on a terminal. Spaces stay.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (r != ' ' && !unicode.IsPrint(r)) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case r == ' ' || (r != utf8.RuneError && unicode.IsPrint(r)):
			b.WriteString(s[:size])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		s = s[size:]
	}
	return b.String()
}

// splitsPassword reports whether the text of rawURL after its "scheme://"
// and before its last "@" holds one of chars: a password with one of them
// unescaped, which a parser ends early and whose pieces it then reads as
// the path, the query or the host (and quotes in its messages), or an "@"
// in the path or query, which cannot be told apart from it. Redact shows
// the scheme alone for "/", "?" and "#"; the errors of Open and
// PoolConfig then quote nothing the parser or the driver read there.
func splitsPassword(rawURL, chars string) bool {
	_, rest, _ := strings.Cut(rawURL, "://")
	at := strings.LastIndexByte(rest, '@')
	return at >= 0 && strings.ContainsAny(rest[:at], chars)
}

// errSplitPassword is the reason given for a URL that does not parse, or
// that pgx reads with a host or database name holding an "@", when
// splitsPassword: the parser's own would quote a piece of the password.
var errSplitPassword = errors.New("cannot parse the URL (percent-encode any / ? # @ : in the user name or password, and any @ after the host): " +
	"the text before its last @ holds a /, ?, # or @, and what was read there is not shown: it may hold pieces of the password")

// redact is Redact without the escaping.
func redact(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return "(not a URL)"
	}
	// The cluster forms hold several hosts, which net/url refuses, so the
	// URL is taken apart by hand. The user information ends at the last
	// "@". When what comes before it holds a "/", "?" or "#", it is either
	// a password with one of those unescaped (a URL that does not parse,
	// whose error shows this form) or a path, query or fragment with an
	// "@" in it, around which a password= may sit: nothing but the scheme
	// is shown, which a message can afford.
	if splitsPassword(rawURL, "/?#") {
		return scheme + "://(hidden: an unescaped character in the password, or an @ after the host)"
	}
	userinfo := ""
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		userinfo, rest = rest[:at+1], rest[at+1:]
		if name, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
			userinfo = name + ":xxxxx@"
		}
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := userinfo+rest[:end], rest[end:]
	tail, _, _ = strings.Cut(tail, "#")
	if path, query, hasQuery := strings.Cut(tail, "?"); hasQuery {
		q, err := url.ParseQuery(query)
		switch {
		case err != nil:
			tail = path + "?(unparsable query)"
		case q.Has("password") || q.Has("sslpassword"):
			for _, k := range []string{"password", "sslpassword"} {
				if q.Has(k) {
					q.Set(k, "xxxxx")
				}
			}
			tail = path + "?" + q.Encode()
		}
	}
	return scheme + "://" + authority + tail
}
