package storeurl

import (
	"context"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/internal/testenv"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

func TestRedactHidesPasswords(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"UserinfoPassword", "postgres://bob:s3cret@db:5432/app?sslmode=disable", "postgres://bob:xxxxx@db:5432/app?sslmode=disable"},
		{"RedisPasswordOnly", "redis://:s3cret@127.0.0.1:6379/0", "redis://:xxxxx@127.0.0.1:6379/0"},
		{"ClusterHosts", "redis+cluster://u:s3cret@h1:1,h2:2?prefix=a", "redis+cluster://u:xxxxx@h1:1,h2:2?prefix=a"},
		{"QueryPassword", "postgres://db/app?password=s3cret&user=bob", "postgres://db/app?password=xxxxx&user=bob"},
		{"NoPassword", "redis://127.0.0.1:6379", "redis://127.0.0.1:6379"},
		{"AtSignInPassword", "redis://u:p@ss@h:1/0", "redis://u:xxxxx@h:1/0"},
		{"QuestionMarkInPassword", "postgres://u:s3cret?PW@127.0.0.1:1/db", "postgres://(hidden: an unescaped character in the password, or an @ after the host)"},
		{"HashInPassword", "postgres://u:s3cret#x@127.0.0.1:1/db", "postgres://(hidden: an unescaped character in the password, or an @ after the host)"},
		{"SlashInPassword", "redis://u:s3cret/PW@h:1/0", "redis://(hidden: an unescaped character in the password, or an @ after the host)"},
		{"AtSignInQueryAfterPassword", "postgres://db/app?password=s3cret&user=bob@corp", "postgres://(hidden: an unescaped character in the password, or an @ after the host)"},
		{"AtSignInQueryAfterSSLPassword", "postgres://u@db/app?sslpassword=s3cret&x=a@b", "postgres://(hidden: an unescaped character in the password, or an @ after the host)"},
		{"AtSignInFragmentAfterPassword", "postgres://db/app?password=s3cret#frag@x", "postgres://(hidden: an unescaped character in the password, or an @ after the host)"},
		{"Fragment", "redis://h:1/0#s3cret", "redis://h:1/0"},
		{"FragmentWithoutPath", "redis://h:1#s3cret", "redis://h:1"},
		{"UnparsableQuery", "postgres://db/app?password=s3cret%zz", "postgres://db/app?(unparsable query)"},
		{"NotAURL", "s3cret", "(not a URL)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Redact(tc.in)
			assert.Equal(t, tc.want, got)
			assert.NotContains(t, got, "s3cret")
		})
	}
}

func TestClusterFormListsEveryHost(t *testing.T) {
	got, err := clusterForm("redis", "u:p@h1:7000,h2:7001,h3:7002?read_timeout=2s")
	require.NoError(t, err)
	u, err := url.Parse(got)
	require.NoError(t, err)
	assert.Equal(t, "h1:7000", u.Host)
	assert.Equal(t, "u", u.User.Username())
	assert.Equal(t, []string{"h2:7001", "h3:7002"}, u.Query()["addr"])
	assert.Equal(t, "2s", u.Query().Get("read_timeout"))

	for _, rest := range []string{"h1:7000,,h2:7001", ",h2:7001", "u:p@,h2:7001", "h1:7000,"} {
		_, err = clusterForm("redis", rest)
		assert.Error(t, err, "an empty host is refused: %s", rest)
	}
}

func TestTakeParamsLeavesOthers(t *testing.T) {
	rest, taken, err := takeParams("h:1/0?prefix=a:b:&db=2&limiter_prefix=l:", paramPrefix, paramLimiterPrefix)
	require.NoError(t, err)
	assert.Equal(t, "h:1/0?db=2", rest)
	assert.Equal(t, "a:b:", taken.Get(paramPrefix))
	assert.Equal(t, "l:", taken.Get(paramLimiterPrefix))

	rest, taken, err = takeParams("h:1/0", paramPrefix)
	require.NoError(t, err)
	assert.Equal(t, "h:1/0", rest)
	assert.Empty(t, taken)
}

func TestOpenRefusesUnknownSchemes(t *testing.T) {
	for _, u := range []string{"memory", "mysql://h/db", "http://h", ""} {
		_, err := Open(context.Background(), u, Options{})
		assert.ErrorIs(t, err, ErrUnsupported, u)
	}
}

// A server that accepts connections and never answers must not hang Open.
func TestOpenIsBoundedOnASilentServer(t *testing.T) {
	addr := testenv.SilentServer(t)
	for _, u := range []string{
		"postgres://u:s3cret@" + addr + "/db?sslmode=disable",
		"redis://:s3cret@" + addr + "/0",
	} {
		start := time.Now()
		_, err := Open(context.Background(), u, Options{Timeout: 300 * time.Millisecond})
		require.Error(t, err, u)
		assert.Less(t, time.Since(start), 3*time.Second, "Open must give up within about the timeout")
		assert.NotContains(t, err.Error(), "s3cret", "no password in errors")
	}
}

// blockingTokens is a TokenStore whose LookupToken waits for its context.
type blockingTokens struct{ storage.TokenStore }

func (blockingTokens) LookupToken(ctx context.Context, _ storage.TokenKind, _ storage.TokenRef) (*storage.TokenInfo, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestBoundEndsAStuckCall(t *testing.T) {
	s := &Stores{Tokens: blockingTokens{}}
	s.bound(20 * time.Millisecond)
	_, err := s.Tokens.LookupToken(context.Background(), storage.KindAccess, storage.TokenRef{})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// blockingBatch is a Limiter and BatchLimiter whose ReserveAll and
// RefundAll wait for their context.
type blockingBatch struct{ storage.Limiter }

func (blockingBatch) ReserveAll(ctx context.Context, _ []storage.LimitKey) (int, time.Duration, error) {
	<-ctx.Done()
	return -1, 0, ctx.Err()
}

func (blockingBatch) RefundAll(ctx context.Context, _ []storage.LimitKey) error {
	<-ctx.Done()
	return ctx.Err()
}

// The bound limiter is a BatchLimiter exactly when the store's is (the
// provider reserves in one round trip only through it), and its batch
// calls end within the bound too.
func TestBoundKeepsBatchLimiter(t *testing.T) {
	s := &Stores{Limiter: blockingBatch{memory.NewLimiter(memory.LimiterConfig{})}}
	s.bound(20 * time.Millisecond)
	b, ok := s.Limiter.(storage.BatchLimiter)
	require.True(t, ok, "the bound limiter hides BatchLimiter")
	_, _, err := b.ReserveAll(context.Background(), nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, b.RefundAll(context.Background(), nil), context.DeadlineExceeded)

	plain := &Stores{Limiter: memory.NewLimiter(memory.LimiterConfig{})}
	plain.bound(time.Second)
	_, ok = plain.Limiter.(storage.BatchLimiter)
	assert.False(t, ok, "the bound limiter claims BatchLimiter falsely")
}

// The bound client store hands the caller's client to the store, so the
// revision goes in and comes back, and ErrConflict passes unchanged.
func TestBoundPassesClientRevisions(t *testing.T) {
	ctx := context.Background()
	s := &Stores{Clients: memory.New(memory.Config{})}
	s.bound(time.Second)
	c := &storage.Client{ID: "c", Public: true, Revision: 5}
	require.NoError(t, s.Clients.CreateClient(ctx, c))
	assert.Equal(t, int64(1), c.Revision)
	stale, err := s.Clients.GetClient(ctx, "c")
	require.NoError(t, err)
	assert.Equal(t, int64(1), stale.Revision)
	c.Disabled = true
	require.NoError(t, s.Clients.UpdateClient(ctx, c))
	assert.Equal(t, int64(2), c.Revision)
	assert.ErrorIs(t, s.Clients.UpdateClient(ctx, stale), storage.ErrConflict)
	list, err := s.Clients.ListClients(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, int64(2), list[0].Revision)
}

func TestOpenPostgresMigratesIntoSearchPath(t *testing.T) {
	u := storeurltest.Postgres(t)
	ctx := context.Background()
	s, err := Open(ctx, u, Options{})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, Postgres, s.Backend)
	assert.NotNil(t, s.Cleaner)
	assert.Nil(t, s.Limiter)
	_, err = s.Clients.GetClient(ctx, "c1")
	require.Error(t, err, "no tables before Migrate")
	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.Migrate(ctx), "migrating twice is a no-op")

	require.NoError(t, s.Clients.CreateClient(ctx, &storage.Client{ID: "c1", Public: true, CreatedAt: time.Now()}))
	_, err = s.Clients.GetClient(ctx, "nobody")
	assert.ErrorIs(t, err, storage.ErrNotFound)

	// Another schema is another store.
	other, err := Open(ctx, storeurltest.Postgres(t), Options{})
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, other.Migrate(ctx))
	_, err = other.Clients.GetClient(ctx, "c1")
	assert.ErrorIs(t, err, storage.ErrNotFound)
	c, err := s.Clients.GetClient(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, "c1", c.ID)
}

func TestOpenRedisUsesPrefix(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, storeurltest.Redis(t), Options{})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, Redis, s.Backend)
	assert.Nil(t, s.Cleaner)
	require.NotNil(t, s.Limiter)
	require.NoError(t, s.Migrate(ctx), "Redis has nothing to migrate")

	require.NoError(t, s.Clients.CreateClient(ctx, &storage.Client{ID: "c1", Public: true, CreatedAt: time.Now()}))
	other, err := Open(ctx, storeurltest.Redis(t), Options{})
	require.NoError(t, err)
	defer other.Close()
	_, err = other.Clients.GetClient(ctx, "c1")
	assert.ErrorIs(t, err, storage.ErrNotFound, "another prefix sees another store")
	c, err := s.Clients.GetClient(ctx, "c1")
	require.NoError(t, err)
	assert.Equal(t, "c1", c.ID)
	_, err = s.Limiter.Fail(ctx, "k", storage.Rate{Burst: 1, Every: time.Second})
	require.NoError(t, err)
	_, ok := s.Limiter.(storage.BatchLimiter)
	assert.True(t, ok, "the Redis limiter reserves in one round trip")
}

// The redis+cluster form reaches a real cluster: a grant's keys and the
// client keys land on different slots and nodes, and both work.
func TestOpenRedisCluster(t *testing.T) {
	addrs := testenv.Getenv(t, "OAUTH2_TEST_REDIS_CLUSTER_ADDRS", "start a cluster with `bash scripts/redis-cluster.sh` and export the addresses it prints to run this test")
	ctx := context.Background()
	prefix := storeurltest.UniqueName(t) + ":"
	s, err := Open(ctx, "redis+cluster://"+addrs+"?prefix="+prefix, Options{})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, Redis, s.Backend)

	ids := []string{"c1", "c2", "c3", "c4", "c5", "c6"} // spread over slots
	for _, id := range ids {
		require.NoError(t, s.Clients.CreateClient(ctx, &storage.Client{ID: id, Public: true, CreatedAt: time.Now()}))
	}
	list, err := s.Clients.ListClients(ctx)
	require.NoError(t, err)
	assert.Len(t, list, len(ids))
	n, err := s.Tokens.RevokeClient(ctx, "c1")
	require.NoError(t, err)
	assert.Zero(t, n)
	// Keys expire on their own only for grants; remove the clients.
	t.Cleanup(func() {
		c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
		defer c.Close()
		_ = c.ForEachMaster(context.Background(), func(ctx context.Context, n *goredis.Client) error {
			it := n.Scan(ctx, 0, prefix+"*", 500).Iterator()
			for it.Next(ctx) {
				n.Del(ctx, it.Val())
			}
			return it.Err()
		})
	})
}

// A URL that does not parse must not put its password in the error: an
// operator's typo would otherwise land the password in a terminal or log.
func TestOpenParseErrorsHideThePassword(t *testing.T) {
	for _, u := range []string{
		"redis://:s3cret@127.0.0.1:badport/0",
		"redis://u:s3cret/x@h:1/0", // net/url's own message quotes ":s3cret" as the port
		"rediss://u:s3cret@[::1/0",
		"redis+cluster://:s3cret@127.0.0.1:badport,h2:1",
		"postgres://u:s3cret@127.0.0.1:badport/db",
		"postgres://u:s3/cret@h/db",          // an unescaped "/" in the password
		"postgres://h/db?sslpassword=s3cret", // the TLS key's passphrase
	} {
		_, err := Open(context.Background(), u, Options{Timeout: 100 * time.Millisecond})
		require.Error(t, err, u)
		assert.NotContains(t, err.Error(), "s3cret", u)
		assert.NotContains(t, err.Error(), "s3/cret", u)
		assert.NotContains(t, Redact(u), "s3", u)
	}
}

// pgx masks a password in its parse errors on a best-effort basis only (its
// doc says so): a password with an unescaped "@" and then ":" ("Tr0ub@dor:3")
// leaves the part between them in the quoted URL. The error names the URL
// only in the form Redact gives.
func TestOpenPostgresParseErrorsHideEveryPartOfThePassword(t *testing.T) {
	for _, tc := range []struct{ url, part string }{
		{"postgres://u:s3c@r3tpart:x@127.0.0.1:1/db", "r3tpart"},
		{"postgres://u:Tr0ub@dorpart:3@127.0.0.1:1/db?sslmode=disable", "dorpart"},
		{"postgres://u:a@bpart:c@d:x@127.0.0.1:1/db", "bpart"},
	} {
		_, err := Open(context.Background(), tc.url, Options{Timeout: 100 * time.Millisecond})
		require.Error(t, err, tc.url)
		assert.NotContains(t, err.Error(), tc.part, tc.url)
	}
}

// A Postgres URL for a host beyond the loopback interface must say whether
// to use TLS: libpq's default falls back to plain text and checks no
// certificate. The check comes before any connection; loopback hosts, Unix
// sockets and an explicit sslmode pass it (and then fail to connect here).
func TestOpenPostgresRequiresATLSChoiceOffLoopback(t *testing.T) {
	t.Setenv("PGSSLMODE", "")
	os.Unsetenv("PGSSLMODE")
	for _, u := range []string{
		"postgres://u:s3cret@db.example:5432/app",
		"postgresql://u:s3cret@10.0.0.7/app",
		"postgres://u:s3cret@127.0.0.1:1,db.example:5432/app", // any host counts
		"postgres://u:s3cret@db.example:5432/app?sslmode=",    // empty: pgx takes libpq's default
	} {
		_, err := Open(context.Background(), u, Options{Timeout: 100 * time.Millisecond})
		require.ErrorIs(t, err, ErrTLSChoice, u)
		assert.NotContains(t, err.Error(), "s3cret", u)
	}
	for _, u := range []string{
		"postgres://u:s3cret@127.0.0.1:1/app",
		"postgres://u:s3cret@localhost:1/app",
		"postgres://u:s3cret@[::1]:1/app",
		"postgres://u:s3cret@db.example:1/app?sslmode=disable",
		"postgres://u:s3cret@db.example:1/app?sslmode=verify-full",
	} {
		_, err := Open(context.Background(), u, Options{Timeout: 100 * time.Millisecond})
		require.Error(t, err, u) // nothing listens there
		assert.NotErrorIs(t, err, ErrTLSChoice, u)
	}
	t.Setenv("PGSSLMODE", "") // set but empty (PGSSLMODE: ${PGSSLMODE}, unset): no choice
	_, err := Open(context.Background(), "postgres://u:s3cret@db.example:1/app", Options{Timeout: 100 * time.Millisecond})
	assert.ErrorIs(t, err, ErrTLSChoice, "an empty PGSSLMODE is no choice")
	t.Setenv("PGSSLMODE", "require")
	_, err = Open(context.Background(), "postgres://u:s3cret@db.example:1/app", Options{Timeout: 100 * time.Millisecond})
	assert.NotErrorIs(t, err, ErrTLSChoice, "PGSSLMODE is a choice")
}

// A redis:// URL for a host beyond the loopback interface must say that
// it goes without TLS (tls=disable), as a postgres one must set sslmode:
// the grants, the client secrets' hashes and the limiter's keys would
// cross the network in clear. The check comes before any connection;
// rediss://, loopback hosts and tls=disable pass it (and then fail to
// connect here, to an address nothing answers).
func TestOpenRedisRequiresATLSChoiceOffLoopback(t *testing.T) {
	for _, u := range []string{
		"redis://:s3cret@192.0.2.1:6379/0",
		"redis://:s3cret@redis.example:6379/0?prefix=app:",
		"redis+cluster://:s3cret@127.0.0.1:1,192.0.2.1:6379", // any node counts
		"redis+cluster://:s3cret@192.0.2.1:6379,127.0.0.1:1",
		"REDIS://:s3cret@192.0.2.1:6379",
	} {
		_, err := Open(context.Background(), u, Options{Timeout: 100 * time.Millisecond})
		require.ErrorIs(t, err, ErrRedisTLSChoice, u)
		assert.NotContains(t, err.Error(), "s3cret", u)
	}
	for _, u := range []string{
		"redis://:s3cret@127.0.0.1:1/0",
		"redis://:s3cret@localhost:1/0",
		"redis://:s3cret@[::1]:1/0",
		"redis://:s3cret@192.0.2.1:6379/0?tls=disable",
		"rediss://:s3cret@192.0.2.1:6379/0",
		"redis+cluster://:s3cret@127.0.0.1:1,192.0.2.1:6379?tls=disable",
		"rediss+cluster://:s3cret@127.0.0.1:1,192.0.2.1:6379",
	} {
		_, err := Open(context.Background(), u, Options{Timeout: 100 * time.Millisecond})
		require.Error(t, err, u) // nothing answers there
		assert.NotErrorIs(t, err, ErrRedisTLSChoice, u)
	}
	for _, u := range []string{
		"redis://127.0.0.1:1/0?tls=off",
		"rediss://192.0.2.1:6379/0?tls=disable", // TLS and none at once
	} {
		_, err := Open(context.Background(), u, Options{Timeout: 100 * time.Millisecond})
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), "tls=", u)
	}
}

// Whatever a password holds, and wherever it sits (user information, a
// password= or sslpassword= parameter), Redact never shows it; and it
// keeps everything else, in every form Open accepts (postgres and
// postgresql with one host or several, redis and rediss, the cluster
// forms with their comma-separated hosts): with the password in the user
// information, the URL as it was with "xxxxx" for the password; with it
// in the query, the same scheme, host and path, and a query that net/url
// reads as the one given with "xxxxx" for the password. Only when the
// text before the last "@" holds a "/", "?" or "#" (an unescaped one in
// the password, or an "@" after the host) may Redact show the scheme
// alone.
func FuzzRedactHidesPasswords(f *testing.F) {
	for _, pw := range []string{"s3cret", "ab@cd/ef", "p?w#d", "a%zz", "x:y@z", "s3cret&user=bob@corp", "\x1b[2Kpass", "pa\xffss:@"} {
		f.Add(pw)
	}
	// The password in the user information.
	userinfo := []string{
		"postgres://u:%s@db:5432/app", "redis://:%s@h:1/0", "redis+cluster://u:%s@h1:1,h2:2",
		"postgres://bob:%s@db.example:5432/app?sslmode=verify-full&search_path=oauth2",
		"postgresql://bob:%s@h1:5432,h2:5433/app?target_session_attrs=read-write",
		"postgres://bob:%s@[::1]:5432/app",
		"redis://alice:%s@127.0.0.1:6379/3?prefix=myapp:oauth2:&limiter_prefix=lim:",
		"rediss://:%s@redis.example:6380/0?dial_timeout=50ms",
		"rediss+cluster://alice:%s@h1:7000,h2:7001,h3:7002?prefix=app:&addr=h4:7003",
		"REDIS://u:%s@h:1/0",
	}
	// The password in the query.
	query := []string{
		"postgres://db/app?password=%s", "postgres://u@db/app?password=%s#f",
		"postgres://bob@db:5432/app?sslmode=verify-full&password=%s&search_path=oauth2",
		"postgresql://bob@h1:5432,h2:5433/app?sslpassword=%s&sslmode=verify-full",
		"postgres://bob@[::1]/app?password=%s&sslpassword=%s",
	}
	const hidden = "://(hidden"
	f.Fuzz(func(t *testing.T, pw string) {
		if len(pw) < 6 || strings.ContainsAny(pw, " \t\r\n") {
			return
		}
		for _, tpl := range append(append([]string{"postgres://db/app?sslpassword=%s&x=a@b"}, userinfo...), query...) {
			if strings.Contains(strings.ReplaceAll(tpl, "%s", ""), pw) {
				continue // the password is a piece of the URL's own text
			}
			inQuery := strings.Contains(tpl, "password=")
			if inQuery && strings.ContainsAny(pw, "&;=+%#") {
				continue // in a query these end or encode the value: the password is not pw
			}
			in := strings.ReplaceAll(tpl, "%s", pw)
			got := Redact(in)
			if strings.Contains(got, pw) {
				t.Fatalf("Redact(%q) = %q shows the password", in, got)
			}
			scheme, rest, _ := strings.Cut(in, "://")
			if at := strings.LastIndexByte(rest, '@'); at >= 0 && strings.ContainsAny(rest[:at], "/?#") {
				if !strings.HasPrefix(got, scheme+hidden) {
					t.Fatalf("Redact(%q) = %q, want the scheme and %q", in, got, hidden)
				}
				continue
			}
			if !inQuery {
				if want := strings.Replace(tpl, "%s", "xxxxx", 1); got != want {
					t.Fatalf("Redact(%q) = %q, want %q", in, got, want)
				}
				continue
			}
			// The password in the query: the rest as it was, the query as
			// net/url reads it.
			tplNoFrag, _, _ := strings.Cut(tpl, "#")
			prefix, tplQuery, _ := strings.Cut(tplNoFrag, "?")
			want, err := url.ParseQuery(strings.ReplaceAll(tplQuery, "%s", "xxxxx"))
			if err != nil {
				t.Fatal(err)
			}
			gotQuery, ok := strings.CutPrefix(got, prefix+"?")
			if !ok {
				t.Fatalf("Redact(%q) = %q, want %q and the query", in, got, prefix)
			}
			q, err := url.ParseQuery(gotQuery)
			if err != nil || !maps.EqualFunc(q, want, slices.Equal) {
				t.Fatalf("Redact(%q) = %q: query %v, want %v", in, got, q, want)
			}
		}
	})
}

// A prefix with an empty hash tag is refused before any connection: the
// store would panic on it (on a cluster, every grant's keys would hash
// to several slots).
func TestOpenRefusesAnEmptyHashTagInThePrefix(t *testing.T) {
	for _, u := range []string{"redis://127.0.0.1:1/0?prefix=app{}:", "redis+cluster://127.0.0.1:1?prefix={}"} {
		_, err := Open(context.Background(), u, Options{Timeout: time.Second})
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), `empty hash tag "{}"`, u)
	}
}

// FuzzClusterForm: whatever the user name and password hold (escaped as
// a URL's user information), clusterForm turns a cluster URL into one
// go-redis reads with the same credentials, every host in order and the
// other parameters.
func FuzzClusterForm(f *testing.F) {
	f.Add("u", "s3cret", "h1", "h2", uint16(7000), uint16(7001), uint8(0))
	f.Add("", "p,w@x:y", "10.0.0.1", "db.example", uint16(1), uint16(65535), uint8(1))
	f.Add("a@b", "?#/%", "h", "h", uint16(0), uint16(6379), uint8(2))
	f.Add("u:v", "p@[::1]", "::1", "2001:db8::7", uint16(7000), uint16(7001), uint8(1))
	queries := []string{"", "read_timeout=2s", "dial_timeout=1s&max_retries=2"}
	// A name, an IPv4 address, or (with a ':') an IPv6 one, which
	// net.JoinHostPort puts in brackets.
	hostChars := "abcdefghijklmnopqrstuvwxyz0123456789.-:"
	f.Fuzz(func(t *testing.T, user, pass, h1, h2 string, p1, p2 uint16, qi uint8) {
		if h1 == "" || h2 == "" || strings.Trim(h1, hostChars) != "" || strings.Trim(h2, hostChars) != "" {
			return
		}
		for _, h := range []string{h1, h2} {
			if ip, err := netip.ParseAddr(h); strings.Contains(h, ":") && (err != nil || !ip.Is6()) {
				return
			}
		}
		a1, a2 := net.JoinHostPort(h1, strconv.Itoa(int(p1))), net.JoinHostPort(h2, strconv.Itoa(int(p2)))
		q := queries[int(qi)%len(queries)]
		rest := url.UserPassword(user, pass).String() + "@" + a1 + "," + a2 + "/0"
		if q != "" {
			rest += "?" + q
		}
		got, err := clusterForm("redis", rest)
		if err != nil {
			t.Fatalf("clusterForm(%q): %v", rest, err)
		}
		opt, err := goredis.ParseClusterURL(got)
		if err != nil {
			t.Fatalf("clusterForm(%q) = %q, which go-redis refuses: %v", rest, got, err)
		}
		if !slices.Equal(opt.Addrs, []string{a1, a2}) || opt.Username != user || opt.Password != pass {
			t.Fatalf("clusterForm(%q) = %q: addresses %q, user %q, password %q", rest, got, opt.Addrs, opt.Username, opt.Password)
		}
		if strings.Contains(q, "read_timeout") && opt.ReadTimeout != 2*time.Second {
			t.Fatalf("clusterForm(%q) = %q lost read_timeout", rest, got)
		}
	})
}

// A negative Options.Timeout means no bound but the caller's context: the
// stores must answer, not fail every call at once with an expired
// deadline.
func TestOpenNegativeTimeoutLeavesCallsUnbounded(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, storeurltest.Redis(t), Options{Timeout: -1})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Clients.GetClient(ctx, "nobody")
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
}

// A URL's scheme is case-insensitive (RFC 3986 §3.1): REDIS:// opens the
// same store as redis://, and is not refused as unsupported.
func TestOpenSchemeIsCaseInsensitive(t *testing.T) {
	ctx := context.Background()
	u := storeurltest.Redis(t)
	require.True(t, strings.HasPrefix(u, "redis://"), u)
	s, err := Open(ctx, "REDIS://"+strings.TrimPrefix(u, "redis://"), Options{})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, Redis, s.Backend)
	_, err = s.Clients.GetClient(ctx, "nobody")
	assert.ErrorIs(t, err, storage.ErrNotFound)
}

// deadlineTokens is a TokenStore whose RevokeUser and RevokeClient report
// whether their context has a deadline, as revoked-grant counts 1 and 0.
type deadlineTokens struct{ storage.TokenStore }

func hasDeadline(ctx context.Context) int {
	if _, ok := ctx.Deadline(); ok {
		return 1
	}
	return 0
}

func (deadlineTokens) RevokeUser(ctx context.Context, _ string) (int, error) {
	return hasDeadline(ctx), nil
}

func (deadlineTokens) RevokeClient(ctx context.Context, _ string) (int, error) {
	return hasDeadline(ctx), nil
}

// An operator's bulk revocation touches every grant of a user or client:
// bound must leave it the caller's context, not cut it off half-way.
func TestBoundLeavesBulkRevocationUnbounded(t *testing.T) {
	s := &Stores{Tokens: deadlineTokens{}}
	s.bound(time.Second)
	n, err := s.Tokens.RevokeUser(context.Background(), "u")
	require.NoError(t, err)
	assert.Zero(t, n, "RevokeUser got a deadline")
	n, err = s.Tokens.RevokeClient(context.Background(), "c")
	require.NoError(t, err)
	assert.Zero(t, n, "RevokeClient got a deadline")
}

// deadlineStore is every store; each call records whether its context
// had a deadline.
type deadlineStore struct {
	storage.ClientStore
	storage.TokenStore
	bounded map[string]bool
}

func (d deadlineStore) saw(ctx context.Context, name string) {
	_, ok := ctx.Deadline()
	d.bounded[name] = ok
}

func (d deadlineStore) GetClient(ctx context.Context, _ string) (*storage.Client, error) {
	d.saw(ctx, "GetClient")
	return nil, nil
}

func (d deadlineStore) CreateClient(ctx context.Context, _ *storage.Client) error {
	d.saw(ctx, "CreateClient")
	return nil
}

func (d deadlineStore) UpdateClient(ctx context.Context, _ *storage.Client) error {
	d.saw(ctx, "UpdateClient")
	return nil
}

func (d deadlineStore) ListClients(ctx context.Context) ([]*storage.Client, error) {
	d.saw(ctx, "ListClients")
	return nil, nil
}

func (d deadlineStore) CreateGrant(ctx context.Context, _ *storage.Grant, _ ...storage.Token) error {
	d.saw(ctx, "CreateGrant")
	return nil
}

func (d deadlineStore) LookupToken(ctx context.Context, _ storage.TokenKind, _ storage.TokenRef) (*storage.TokenInfo, error) {
	d.saw(ctx, "LookupToken")
	return nil, nil
}

func (d deadlineStore) ExchangeToken(ctx context.Context, _ storage.Exchange) (*storage.Grant, error) {
	d.saw(ctx, "ExchangeToken")
	return nil, nil
}

func (d deadlineStore) ExtendToken(ctx context.Context, _ storage.TokenRef, _ time.Time) error {
	d.saw(ctx, "ExtendToken")
	return nil
}

func (d deadlineStore) RevokeGrant(ctx context.Context, _ string) error {
	d.saw(ctx, "RevokeGrant")
	return nil
}

func (d deadlineStore) DeleteExpired(ctx context.Context, _ int) (int, error) {
	d.saw(ctx, "DeleteExpired")
	return 0, nil
}

func (d deadlineStore) Throttled(ctx context.Context, _ string, _ storage.Rate) (time.Duration, error) {
	d.saw(ctx, "Throttled")
	return 0, nil
}

func (d deadlineStore) Fail(ctx context.Context, _ string, _ storage.Rate) (time.Duration, error) {
	d.saw(ctx, "Fail")
	return 0, nil
}

func (d deadlineStore) Reserve(ctx context.Context, _ string, _ storage.Rate) (time.Duration, error) {
	d.saw(ctx, "Reserve")
	return 0, nil
}

func (d deadlineStore) Refund(ctx context.Context, _ string, _ storage.Rate) error {
	d.saw(ctx, "Refund")
	return nil
}

// Every single-record call of every bound store ends within the bound: a
// store call without one could hang a request on a stuck server.
func TestBoundBoundsEverySingleCall(t *testing.T) {
	d := deadlineStore{bounded: map[string]bool{}}
	s := &Stores{Clients: d, Tokens: d, Cleaner: d, Limiter: d}
	s.bound(time.Minute)
	ctx := context.Background()
	_, _ = s.Clients.GetClient(ctx, "c")
	_ = s.Clients.CreateClient(ctx, nil)
	_ = s.Clients.UpdateClient(ctx, nil)
	_, _ = s.Clients.ListClients(ctx)
	_ = s.Tokens.CreateGrant(ctx, nil)
	_, _ = s.Tokens.LookupToken(ctx, storage.KindAccess, storage.TokenRef{})
	_, _ = s.Tokens.ExchangeToken(ctx, storage.Exchange{})
	_ = s.Tokens.ExtendToken(ctx, storage.TokenRef{}, time.Time{})
	_ = s.Tokens.RevokeGrant(ctx, "g")
	_, _ = s.Cleaner.DeleteExpired(ctx, 1)
	_, _ = s.Limiter.Throttled(ctx, "k", storage.Rate{})
	_, _ = s.Limiter.Fail(ctx, "k", storage.Rate{})
	_, _ = s.Limiter.Reserve(ctx, "k", storage.Rate{})
	_ = s.Limiter.Refund(ctx, "k", storage.Rate{})
	for _, name := range []string{
		"GetClient", "CreateClient", "UpdateClient", "ListClients",
		"CreateGrant", "LookupToken", "ExchangeToken", "ExtendToken", "RevokeGrant",
		"DeleteExpired", "Throttled", "Fail", "Reserve", "Refund",
	} {
		bounded, called := d.bounded[name]
		require.True(t, called, "%s did not reach the store", name)
		assert.True(t, bounded, "%s has no deadline", name)
	}
}

// A database never migrated has no version table: SchemaVersion reports
// version 0 and the version the migrations bring it to, not Postgres's
// undefined_table error, which "oauth2ctl migrate" would fail on.
func TestSchemaVersionBeforeTheFirstMigration(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, storeurltest.Postgres(t), Options{})
	require.NoError(t, err)
	defer s.Close()
	current, latest, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Zero(t, current)
	assert.Positive(t, latest)
	require.NoError(t, s.Migrate(ctx))
	current, latest2, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, latest, current)
	assert.Equal(t, latest, latest2)
}

// A Unix socket directory (host=/path) never leaves the machine: it needs
// no TLS choice, whatever the name.
func TestOpenPostgresUnixSocketNeedsNoTLSChoice(t *testing.T) {
	t.Setenv("PGSSLMODE", "")
	os.Unsetenv("PGSSLMODE")
	_, err := Open(context.Background(), "postgres://u@/app?host=/nonexistent-oauth2-socket-dir", Options{Timeout: 100 * time.Millisecond})
	require.Error(t, err) // nothing listens there
	assert.NotErrorIs(t, err, ErrTLSChoice)
}

// The Redis limiter's keys follow the store's prefix ("limit:" after it)
// unless limiter_prefix names another, so two apps on one Redis, each
// with its own prefix, never count each other's failures.
func TestOpenRedisLimiterFollowsThePrefix(t *testing.T) {
	ctx := context.Background()
	u := storeurltest.Redis(t)
	prefix := storeurltest.UniqueName(t) + ":"
	u = storeurltest.WithParam(u, "prefix", prefix)
	opt, err := goredis.ParseURL(strings.SplitN(u, "?", 2)[0])
	require.NoError(t, err)
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	rate := storage.Rate{Burst: 2, Every: time.Minute}
	for _, tc := range []struct{ url, key string }{
		{u, "rate:" + prefix + "limit:k"},
		{storeurltest.WithParam(u, "limiter_prefix", prefix+"own:"), "rate:" + prefix + "own:k"},
	} {
		s, err := Open(ctx, tc.url, Options{})
		require.NoError(t, err)
		_, err = s.Limiter.Fail(ctx, "k", rate)
		s.Close()
		require.NoError(t, err)
		n, err := rdb.Exists(ctx, tc.key).Result()
		require.NoError(t, err)
		assert.Equal(t, int64(1), n, "no key %s", tc.key)
		require.NoError(t, rdb.Del(ctx, tc.key).Err())
	}
}

// The pool's connections get the connection timeout and a statement
// timeout of twice the bound, unless the URL sets its own; the
// migrations' connection keeps no statement timeout unless the URL asked
// for one, as a long migration must not be cut off.
func TestPostgresConfigTimeouts(t *testing.T) {
	const base = "postgres://u@127.0.0.1:1/app"
	cfg, migrateCfg, err := postgresConfig(base, Options{Timeout: 3 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, cfg.ConnConfig.ConnectTimeout)
	assert.Equal(t, "6000", cfg.ConnConfig.RuntimeParams["statement_timeout"])
	assert.Equal(t, 3*time.Second, migrateCfg.ConnectTimeout)
	assert.NotContains(t, migrateCfg.RuntimeParams, "statement_timeout")

	cfg, migrateCfg, err = postgresConfig(base+"?connect_timeout=9&statement_timeout=100", Options{Timeout: 3 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 9*time.Second, cfg.ConnConfig.ConnectTimeout)
	assert.Equal(t, "100", cfg.ConnConfig.RuntimeParams["statement_timeout"])
	assert.Equal(t, "100", migrateCfg.RuntimeParams["statement_timeout"])

	cfg, _, err = postgresConfig(base, Options{Timeout: -1})
	require.NoError(t, err)
	assert.Zero(t, cfg.ConnConfig.ConnectTimeout)
	assert.NotContains(t, cfg.ConnConfig.RuntimeParams, "statement_timeout")
}

// Redact's result goes to terminals and logs: a control character in the
// URL (a typo, or a crafted $OAUTH2_STORE) comes out escaped, never as an
// escape sequence that rewrites the operator's screen.
func TestRedactEscapesControlCharacters(t *testing.T) {
	for _, raw := range []string{
		"postgres://u:s3cret@h/db\x1b[2K\r",
		"redis://h\x07:6379/0",
		"mysql://u:s3cret@h/\x1b]0;title\a",
		"not a url \x1b[31m",
	} {
		got := Redact(raw)
		assert.NotContains(t, got, "\x1b", raw)
		assert.NotContains(t, got, "\r", raw)
		assert.NotContains(t, got, "\a", raw)
		assert.NotContains(t, got, "s3cret", raw)
	}
	assert.Equal(t, `postgres://u:xxxxx@h/db\x1b[2K`, Redact("postgres://u:s3cret@h/db\x1b[2K"))
}

func TestPrintable(t *testing.T) {
	assert.Equal(t, `a b\x1b[2K\r\u200bé`, Printable("a b\x1b[2K\r\u200bé"))
	assert.Equal(t, `\xff`, Printable("\xff"))
	// U+FFFD written as such prints: only a byte that is not UTF-8 is
	// escaped, not the replacement character's own bytes.
	assert.Equal(t, "a\uFFFDb\\xff", Printable("a\uFFFDb\xff"))
}

// A password with an unescaped "/", "?" or "@" splits the URL elsewhere
// than its owner meant: the piece after that character becomes the
// database name, the path, the query or the host, which the parser's and
// the driver's messages quote ("invalid database number: \"…\"",
// "database=…", "lookup …@host"). Redact hides such a URL; the error
// must hide every piece of its password too, Open's and PoolConfig's.
func TestOpenErrorsHideThePiecesOfASplitPassword(t *testing.T) {
	for _, u := range []string{
		"redis://:/s3cretpart@127.0.0.1:6379",           // the path: invalid database number
		"redis://u:1234/s3cretpart@127.0.0.1:6379/0",    // the path: invalid URL path
		"redis://:12?s3cretpart@127.0.0.1:6379/0",       // the query: unexpected option
		"redis+cluster://:/s3cretpart@127.0.0.1:1,h2:1", // the cluster form alike
		"postgres://u:ab/c d-s3cretpart@127.0.0.1:1/db", // the database name, quoted by pgx's parser
		"postgres://u:ab/s3cret%zzpart@127.0.0.1:1/db",
		"postgres://u:12/s3cretpart@127.0.0.1:1/db?sslmode=disable", // the database name, quoted by the connect error
		"postgres://u:p@s3cretpart@127.0.0.1:1/db?sslmode=disable",  // the host: pgx ends the password at the first "@"
		// A fallback host, quoted by the connect error ("lookup …@127.0.0.1").
		"postgres://u:p@127.0.0.1:1,s3cretpart@127.0.0.1:2/db?sslmode=disable",
	} {
		_, err := Open(context.Background(), u, Options{Timeout: 200 * time.Millisecond})
		require.Error(t, err, u)
		assert.NotContains(t, err.Error(), "s3cret", u)
		assert.NotContains(t, Redact(u), "s3cret", u)
		if strings.HasPrefix(u, "postgres") {
			_, err := PoolConfig(u, time.Second)
			if assert.Error(t, err, u) {
				assert.NotContains(t, err.Error(), "s3cret", u)
			}
		}
	}
	// A "#" ends a Redis URL's host at the password's first piece: the
	// parse error says why, as for "/" and "?".
	_, err := Open(context.Background(), "redis://:1x#s3cretpart@127.0.0.1:6379", Options{Timeout: 200 * time.Millisecond})
	require.Error(t, err)
	assert.Contains(t, err.Error(), errSplitPassword.Error())
	// Also when what comes before the "#" reads as a port: go-redis then
	// dialled that port on the local host and answered only "server does
	// not answer", which did not say why.
	for _, u := range []string{
		"redis://:12#s3cretpart@127.0.0.1:6379/0",
		"redis+cluster://:12#s3cretpart@127.0.0.1:7101,127.0.0.1:7102",
		"postgres://u:12#s3cretpart@127.0.0.1:5432/test?sslmode=disable",
	} {
		_, err := Open(context.Background(), u, Options{Timeout: 200 * time.Millisecond})
		require.ErrorIs(t, err, errSplitPassword, u)
		assert.NotContains(t, err.Error(), "s3cret", u)
	}
	// An "@" after the host, where it may be, still opens.
	cfg, err := PoolConfig("postgres://127.0.0.1:1/db?user=bob@corp&sslmode=disable", time.Second)
	require.NoError(t, err)
	assert.Equal(t, "bob@corp", cfg.ConnConfig.User)
}

// An "@" after the host that pgx reads into a host or database name
// opens once percent-encoded, as the error asks.
func TestPoolConfigTakesAnEscapedAtSignAfterTheHost(t *testing.T) {
	_, err := PoolConfig("postgres://u:pw@127.0.0.1:1/a@b", time.Second)
	require.ErrorIs(t, err, errSplitPassword)
	assert.Contains(t, err.Error(), "any @ after the host")
	cfg, err := PoolConfig("postgres://u:pw@127.0.0.1:1/a%40b", time.Second)
	require.NoError(t, err)
	assert.Equal(t, "a@b", cfg.ConnConfig.Database)
	cfg, err = PoolConfig("postgres:///db?host=/run/pg%4014", time.Second)
	require.NoError(t, err)
	assert.Equal(t, "/run/pg@14", cfg.ConnConfig.Host)
}

// Open's errors name the package once: "storeurl: open <URL>: " and the
// reason, not "storeurl: open <URL>: storeurl: …" (the reasons of this
// package's own checks carried the prefix as well).
func TestOpenErrorsSayStoreurlOnce(t *testing.T) {
	for _, u := range []string{
		"postgres://u:s3cret@db.example/app",             // no TLS choice
		"redis://:s3cret@cache.example:6379/0",           // no TLS choice
		"redis://127.0.0.1:1/0?tls=maybe",                // tls= takes only disable
		"rediss://127.0.0.1:1/0?tls=disable",             // contradiction
		"redis://127.0.0.1:1/0?prefix=app{}:",            // empty hash tag
		"redis+cluster://127.0.0.1:1?prefix={}",          // empty hash tag
		"redis://:p%23w@127.0.0.1:1/0#x@h",               // split password
		"postgres://u:s3cret@db.example/app?sslmode=bad", // the driver's own
	} {
		_, err := Open(context.Background(), u, Options{Timeout: time.Second})
		require.Error(t, err, u)
		assert.True(t, strings.HasPrefix(err.Error(), "storeurl: open "), "%s: %v", u, err)
		assert.Equal(t, 1, strings.Count(err.Error(), "storeurl:"), "%s: %v", u, err)
	}
}
