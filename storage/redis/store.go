package redis

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauth2provider/oauth2provider/storage"
)

// DefaultPrefix is the key prefix used when [Config.Prefix] is empty.
const DefaultPrefix = "oauth2:"

// Config configures a [Store].
type Config struct {
	// Prefix starts every key the store writes, so several stores (or
	// other data) can share one Redis. Empty means [DefaultPrefix]. Braces
	// in it act as a Redis Cluster hash tag ("{app}:" puts every key on one
	// slot); it must not contain an empty pair "{}".
	Prefix string
	// Now is the store's clock, against which expiry is judged. Nil means
	// time.Now.
	Now func() time.Time
}

// Store keeps clients, grants and token hashes in Redis. It implements
// [storage.ClientStore] and [storage.TokenStore] and is safe for
// concurrent use. Create it with [New].
type Store struct {
	rdb    goredis.UniversalClient
	prefix string
	now    func() time.Time
}

var (
	_ storage.ClientStore = (*Store)(nil)
	_ storage.TokenStore  = (*Store)(nil)
)

// New returns a Store on client, which may be a *goredis.Client (single
// node), a Sentinel failover client or a *goredis.ClusterClient. The caller
// owns client and closes it after the last use of the Store.
//
// New panics if cfg.Prefix contains "{}": on a Redis Cluster every key
// would hash whole, each grant's keys would land on several slots, and
// every script on them would fail with CROSSSLOT.
func New(client goredis.UniversalClient, cfg Config) *Store {
	if strings.Contains(cfg.Prefix, "{}") {
		panic(fmt.Sprintf("redis: Config.Prefix %q contains an empty hash tag \"{}\"", cfg.Prefix))
	}
	s := &Store{rdb: client, prefix: cfg.Prefix, now: cfg.Now}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Key layout. Every key of one grant shares the hash tag {grantID}, so the
// scripts that touch a grant run on one Redis Cluster slot.

// hashTagged reports whether the keys of grant grantID carry a Redis
// Cluster hash tag, so that they share a slot: the tag of "{"+grantID+"}"
// is empty, and the keys hashed whole (on many slots), when grantID is
// empty or starts with "}". No grant can have such an ID: CreateGrant
// refuses it and every other method finds nothing under it, on every
// topology alike.
func hashTagged(grantID string) bool { return grantID != "" && grantID[0] != '}' }

// grantKeys returns, in one allocation, the keys of grant grantID: base,
// "<prefix>{<grantID>}", the start of every key of the grant; gkey,
// base+":g", the grant hash; and skey, base+":ts", the sorted set of the
// grant's token hashes (hex), scored by token expiry in Unix
// milliseconds. A token's key is tokenKey(base, hash).
func (s *Store) grantKeys(grantID string) (base, gkey, skey string) {
	n := len(s.prefix) + len(grantID) + 2
	all := s.prefix + "{" + grantID + "}:g" + s.prefix + "{" + grantID + "}:ts"
	return all[:n], all[:n+2], all[n+2:]
}

// tokenKey is one token hash.
func tokenKey(base string, h storage.Hash) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(base) + 3 + 2*len(h))
	b.WriteString(base)
	b.WriteString(":t:")
	for _, c := range h {
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&15])
	}
	return b.String()
}

// clientKey is one client, as JSON.
func (s *Store) clientKey(id string) string { return s.prefix + "client:" + id }

// clientIndexKey is the sorted set (all scores 0, so ordered by ID) of
// client IDs.
func (s *Store) clientIndexKey() string { return s.prefix + "clients" }

// userGrantsKey is the sorted set of the user's grant IDs scored by grant
// expiry in Unix milliseconds.
func (s *Store) userGrantsKey(userID string) string { return s.prefix + "user:{" + userID + "}" }

// clientGrantsKey is the sorted set of the client's grant IDs scored by
// grant expiry in Unix milliseconds.
func (s *Store) clientGrantsKey(clientID string) string { return s.prefix + "cli:{" + clientID + "}" }

// Time encoding. Instants the scripts compare (now, expiries) are Unix
// nanoseconds as decimal strings without sign or leading zeros, clamped to
// [0, MaxInt64], which the scripts compare exactly by length, then bytes.
// Other times are Unix nanoseconds too, or "" for the zero time.

var (
	minInstant = time.Unix(0, 0)
	maxInstant = time.Unix(0, math.MaxInt64)
)

// instant encodes t for comparison in a script.
func instant(t time.Time) string {
	return strconv.FormatInt(instantNanos(t), 10)
}

// instantNanos is t in Unix nanoseconds clamped to [0, MaxInt64], as
// instant encodes it.
func instantNanos(t time.Time) int64 {
	switch {
	case t.Before(minInstant):
		return 0
	case t.After(maxInstant):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// ceilMillis is ns nanoseconds in milliseconds, rounded up; ns >= 0.
func ceilMillis(ns int64) int64 {
	ms := ns / 1e6
	if ns%1e6 != 0 {
		ms++
	}
	return ms
}

// maxTTL is the longest TTL, in milliseconds, the scripts set.
const maxTTL = 1e15

// ttlMillis is the TTL in milliseconds of a key that expires at exp,
// measured from now, as the scripts give it with PEXPIRE: rounded up, at
// least 1 and at most maxTTL.
func ttlMillis(now, exp time.Time) int64 {
	if n, e := instantNanos(now), instantNanos(exp); e > n {
		return min(max(ceilMillis(e-n), 1), maxTTL)
	}
	return 1
}

// scoreMillis is the score of expiry exp in a sorted set (a grant's
// token set, a user's or client's index): Unix milliseconds of the
// instant as instant encodes it, rounded up so that a member is never
// pruned before it expired.
func scoreMillis(exp time.Time) int64 {
	return ceilMillis(instantNanos(exp))
}

// instantBefore reports a < b for instants as instant encodes them, as the
// scripts' lt compares them: by length, then bytes. An empty b (a missing
// field) is before every instant.
func instantBefore(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// encTime encodes a time that is stored, not compared.
func encTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

// decTime decodes what encTime or instant made, in UTC.
func decTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	ns, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad stored time: %w", err)
	}
	return time.Unix(0, ns).UTC(), nil
}

// wrap turns err from operation op into the error a store returns:
// redis.Nil becomes [storage.ErrNotFound]; anything else is wrapped as an
// outage. The message names the operation only, never a key (keys hold
// only hashes and IDs, but keep errors short and uniform).
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, goredis.Nil) {
		err = storage.ErrNotFound
	}
	return fmt.Errorf("redis: %s: %w", op, err)
}
