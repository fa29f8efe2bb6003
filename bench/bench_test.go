package bench_test

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// BenchmarkValidate checks one access token on a protected route: ours
// through policy.Bearer around a no-op handler, fosite with
// IntrospectToken, go-oauth2 with ValidationBearerToken. The request is
// built once; each library reads the token from its Authorization header.
func BenchmarkValidate(b *testing.B) {
	for _, lb := range validators() {
		b.Run("lib="+lb.name, func(b *testing.B) {
			l := lb.new(b)
			tr, err := grant(l, passwordRq)
			if err != nil {
				b.Fatal(err)
			}
			r := bearerRequest(tr.AccessToken)
			w := new(statusWriter)
			settle(b)
			for b.Loop() {
				if !l.validate(w, r) {
					b.Fatal("valid token refused")
				}
			}
		})
		floorsAfter(b, lb.name, validateFloors)
	}
	// The floor: one SHA-256 of the token and one map lookup.
	b.Run("lib=baseline-sha256-map", func(b *testing.B) {
		l := oursMemory(b)
		tr, err := grant(l, passwordRq)
		if err != nil {
			b.Fatal(err)
		}
		type identity struct{ userID, clientID string }
		m := map[[sha256.Size]byte]*identity{sha256.Sum256([]byte(tr.AccessToken)): {userID, clientID}}
		tok := tr.AccessToken
		settle(b)
		for b.Loop() {
			if id := m[sha256.Sum256([]byte(tok))]; id == nil || id.userID != userID || id.clientID != clientID {
				b.Fatal("not found")
			}
		}
	})
}

// settle reports allocations and collects the garbage earlier set-ups and
// benchmarks left, so that each benchmark starts from the same heap
// instead of paying for its predecessor's garbage; the timer starts after
// it.
func settle(b *testing.B) {
	b.ReportAllocs()
	runtime.GC()
}

// validators are the set-ups of the validation benchmarks. The client
// secret plays no part in validating a token, so the peers run with the
// SHA-256 hasher, which only makes their set-up (the first grant) quick;
// they are named after the library alone.
func validators() []struct {
	name string
	new  func(testing.TB) *lib
} {
	var out []struct {
		name string
		new  func(testing.TB) *lib
	}
	for _, lb := range libs {
		switch lb.name {
		case "fosite", "gooauth2", "ours-logged", "ours-unthrottled":
			continue
		case "fosite-sha256", "gooauth2-sha256":
			lb.name = strings.TrimSuffix(lb.name, "-sha256")
		}
		out = append(out, lb)
	}
	return out
}

// BenchmarkPasswordGrant is one password grant through each library's
// token endpoint: client authentication (Basic), the trivial user check,
// minting and storing an access and a refresh token, and the JSON
// response.
func BenchmarkPasswordGrant(b *testing.B) {
	for _, lb := range passwordLibs {
		b.Run("lib="+lb.name, func(b *testing.B) {
			l := lb.new(b)
			w, q := new(recorder), new(requester)
			settle(b)
			for b.Loop() {
				w.reset()
				l.token.ServeHTTP(w, q.next(l, passwordRq))
				if w.Code != http.StatusOK {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}

// passwordLibs are libs and our Redis set-up throttling with the Redis
// Limiter, for the password grant, the one request it throttles on the
// common path.
var passwordLibs = append(libs[:len(libs):len(libs)], struct {
	name string
	new  func(testing.TB) *lib
}{"ours-redis-limiter", oursRedisLimiter})

// refreshChain is how many times BenchmarkRefreshGrant rotates one
// grant's refresh token before it starts a new grant (untimed): an app
// session refreshed every hour for most of a day. longChain is the
// length of BenchmarkRefreshLongChain's chains: a session refreshed every
// few minutes for days.
const (
	refreshChain = 16
	longChain    = 1000
)

// BenchmarkRefreshGrant is one refresh grant with rotation through each
// library's token endpoint: the old refresh token is consumed and a new
// pair issued. Reading the new refresh token out of the JSON response is
// part of the loop for every library.
func BenchmarkRefreshGrant(b *testing.B) {
	for _, lb := range refreshLibs {
		b.Run("lib="+lb.name, func(b *testing.B) { benchRefresh(b, lb.new(b), refreshChain) })
		floorsAfter(b, lb.name, refreshFloors)
	}
}

// BenchmarkRefreshLongChain is BenchmarkRefreshGrant on grants rotated
// longChain times, which shows whether a rotation costs more the longer
// a grant has lived.
func BenchmarkRefreshLongChain(b *testing.B) {
	for _, lb := range libs {
		switch lb.name {
		case "ours", "fosite-sha256", "gooauth2-sha256": // the peers doing the work ours does
			b.Run("lib="+lb.name, func(b *testing.B) { benchRefresh(b, lb.new(b), longChain) })
		}
	}
}

// refreshLibs are libs and our networked set-ups without the client
// cache (Config.ClientCacheTTL off, as shipped), for the refresh, the one
// grant the cache serves.
var refreshLibs = append(libs[:len(libs):len(libs)], []struct {
	name string
	new  func(testing.TB) *lib
}{
	{"ours-redis-uncached", oursRedisUncached},
	{"ours-postgres-uncached", oursPostgresUncached},
}...)

// benchRefresh refreshes chains of chain rotations. The chains are
// started (a password grant each) in batches, untimed, each batch twice
// the last up to refreshBatch: stopping the timer for each chain would
// charge the loop with what B.StopTimer costs (runtime.ReadMemStats
// stops the world and empties every allocation cache, so that the next
// allocations take the slow path), which every 16 refreshes was about a
// tenth of a refresh of ours.
func benchRefresh(b *testing.B, l *lib, chain int) {
	var starts []string
	batch := 1
	mint := func() {
		starts = starts[:0]
		for range batch {
			tr, err := grant(l, passwordRq)
			if err != nil {
				b.Fatal(err)
			}
			starts = append(starts, tr.RefreshToken)
		}
		batch = min(2*batch, refreshBatch)
	}
	mint()
	var rt string
	n := chain
	w, q := new(recorder), new(requester)
	settle(b)
	for b.Loop() {
		if n == chain {
			if len(starts) == 0 {
				b.StopTimer()
				mint()
				b.StartTimer()
			}
			rt, starts, n = starts[0], starts[1:], 0
		}
		tr, err := grantInto(w, q, l, "grant_type=refresh_token&refresh_token="+rt)
		if err != nil {
			b.Fatal(err)
		}
		rt = tr.RefreshToken
		n++
	}
}

// refreshBatch is the most chains benchRefresh starts at a time.
const refreshBatch = 1024

// BenchmarkStoreFloor is what one round trip costs on the servers our
// Redis and Postgres stores use, read and write: a bare GET of a small
// value, an EVALSHA of a script that does only that GET (what running any
// script adds), a SET of one key, and on Postgres a SELECT and an
// autocommit UPDATE of one row by primary key (the UPDATE pays the
// commit, as a refresh does). BenchmarkValidate and BenchmarkRefreshGrant
// also run the floor they are compared with right after each networked
// set-up (see floorsAfter), so that both see the machine in the same
// state: loopback round trips on a VM drift by tens of per cent within
// minutes.
func BenchmarkStoreFloor(b *testing.B) {
	b.Run("op=redis-GET", floorRedisGET)
	b.Run("op=redis-EVALSHA-GET", floorRedisEVALSHA)
	b.Run("op=redis-SET", floorRedisSET)
	b.Run("op=postgres-SELECT", floorPostgresSELECT)
	b.Run("op=postgres-UPDATE", floorPostgresUPDATE)
	b.Run("op=redis-rotate-one-key", floorRedisRotate)
	b.Run("op=postgres-rotate-one-table", floorPostgresRotate)
}

// floor is a round-trip floor run as a sub-benchmark named lib=floor-name.
type floor struct {
	name string
	run  func(*testing.B)
}

// floorsAfter runs, right after each networked set-up of a benchmark
// (named in floors), the floors it is compared with.
func floorsAfter(b *testing.B, lib string, floors map[string][]floor) {
	for _, f := range floors[lib] {
		b.Run("lib=floor-"+f.name, f.run)
	}
}

// validateFloors and refreshFloors are what a networked validation and
// refresh are compared with: a read by key, and for a refresh on Postgres
// also a committed write.
var (
	validateFloors = map[string][]floor{
		"ours-redis":    {{"redis-GET", floorRedisGET}},
		"ours-postgres": {{"postgres-SELECT", floorPostgresSELECT}},
	}
	refreshFloors = map[string][]floor{
		"ours-redis":    {{"redis-GET", floorRedisGET}, {"redis-rotate-one-key", floorRedisRotate}},
		"ours-postgres": {{"postgres-SELECT", floorPostgresSELECT}, {"postgres-UPDATE", floorPostgresUPDATE}, {"postgres-rotate-one-table", floorPostgresRotate}},
	}
)

// floorValue is the value the Redis floors read and write: about the size
// of a stored grant record.
const floorValue = "a value of about the size of a stored grant record"

// floorRedisGET is a bare GET of a small value.
func floorRedisGET(b *testing.B) {
	c, prefix := redisClient(b)
	ctx := b.Context()
	key := prefix + "floor"
	if err := c.Set(ctx, key, floorValue, time.Hour).Err(); err != nil {
		b.Fatal(err)
	}
	settle(b)
	for b.Loop() {
		if err := c.Get(ctx, key).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// floorRedisEVALSHA is an EVALSHA of a script that does only a GET.
func floorRedisEVALSHA(b *testing.B) {
	c, prefix := redisClient(b)
	ctx := b.Context()
	key := prefix + "floor"
	if err := c.Set(ctx, key, floorValue, time.Hour).Err(); err != nil {
		b.Fatal(err)
	}
	script := goredis.NewScript(`return redis.call('GET', KEYS[1])`)
	if err := script.Load(ctx, c).Err(); err != nil {
		b.Fatal(err)
	}
	keys := []string{key}
	settle(b)
	for b.Loop() {
		if err := script.EvalSha(ctx, c, keys).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// floorRedisSET is a SET of one key with a TTL.
func floorRedisSET(b *testing.B) {
	c, prefix := redisClient(b)
	ctx := b.Context()
	key := prefix + "floor"
	settle(b)
	for b.Loop() {
		if err := c.Set(ctx, key, floorValue, time.Hour).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// floorPostgresSELECT is a SELECT of one row by primary key.
func floorPostgresSELECT(b *testing.B) {
	pool := pgPool(b)
	ctx := b.Context()
	if _, err := pool.Exec(ctx, "create table floor (hash bytea primary key, kind smallint not null)"); err != nil {
		b.Fatal(err)
	}
	h := sha256.Sum256([]byte("token"))
	if _, err := pool.Exec(ctx, "insert into floor values ($1, 1)", h[:]); err != nil {
		b.Fatal(err)
	}
	settle(b)
	for b.Loop() {
		var kind int16
		if err := pool.QueryRow(ctx, "select kind from floor where hash = $1", h[:]).Scan(&kind); err != nil {
			b.Fatal(err)
		}
	}
}

// floorPostgresUPDATE is an autocommit UPDATE of one row by primary key.
func floorPostgresUPDATE(b *testing.B) {
	pool := pgPool(b)
	ctx := b.Context()
	if _, err := pool.Exec(ctx, "create table floor (hash bytea primary key, n bigint not null)"); err != nil {
		b.Fatal(err)
	}
	h := sha256.Sum256([]byte("token"))
	if _, err := pool.Exec(ctx, "insert into floor values ($1, 0)", h[:]); err != nil {
		b.Fatal(err)
	}
	settle(b)
	for b.Loop() {
		if _, err := pool.Exec(ctx, "update floor set n = n + 1 where hash = $1", h[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// rotateScript is the least a refresh-token rotation can do in one Redis
// script, with the whole grant in one hash: read the grant and its
// current refresh token, refuse any other, write the new refresh token,
// the new access token and the expiry, keep the consumed token (to tell
// its reuse), drop the access token it replaces and set the key's TTL.
// It keeps no per-token TTLs and no indexes by user or client, which our
// store has.
var rotateScript = goredis.NewScript(`
local g = redis.call('HMGET', KEYS[1], 'client', 'user', 'scopes', 'binding', 'created', 'code', 'uname', 'expires', 'revoked', 'r')
if g[10] ~= ARGV[1] or g[9] ~= '0' then return false end
redis.call('HSET', KEYS[1], 'r', ARGV[2], 'p', ARGV[1], 'a:' .. ARGV[3], ARGV[4], 'expires', ARGV[4])
redis.call('HDEL', KEYS[1], 'a:' .. ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return {g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8]}
`)

// floorRedisRotate is rotateScript: a floor under any refresh on Redis,
// whatever its stored format, for one that does what rotateScript does.
func floorRedisRotate(b *testing.B) {
	c, prefix := redisClient(b)
	ctx := b.Context()
	key := prefix + "{grant}"
	hex := func(i int) string { return fmt.Sprintf("%064x", sha256.Sum256(fmt.Append(nil, i))) }
	tokens := [2]string{hex(0), hex(1)} // presented, new; swapped every rotation
	access := [2]string{hex(2), hex(3)} // new, replaced
	if err := c.HSet(ctx, key, "client", "client", "user", "user-1", "scopes", "read write",
		"binding", "", "created", "1764150000000000000", "code", "", "uname", "alice",
		"expires", "1766742000000000000", "revoked", "0", "r", tokens[0], "a:"+access[1], "1764153600000000000").Err(); err != nil {
		b.Fatal(err)
	}
	if err := rotateScript.Load(ctx, c).Err(); err != nil {
		b.Fatal(err)
	}
	keys := []string{key}
	settle(b)
	for b.Loop() {
		err := rotateScript.EvalSha(ctx, c, keys, tokens[0], tokens[1], access[0], "1766742000000000000", access[1], "2592000000").Err()
		if err != nil {
			b.Fatal(err)
		}
		tokens[0], tokens[1] = tokens[1], tokens[0]
		access[0], access[1] = access[1], access[0]
	}
}

// floorPostgresRotate is the least a refresh-token rotation can do in
// one Postgres statement: mark the presented token consumed (kept, to
// tell its reuse) and insert the two new ones under its grant, in a table
// with a primary key alone, autocommit. It has no grant row and no other
// index, which our schema has.
func floorPostgresRotate(b *testing.B) {
	pool := pgPool(b)
	ctx := b.Context()
	if _, err := pool.Exec(ctx, `create table floor_tokens (hash bytea primary key,
		grant_id text not null, consumed boolean not null default false)`); err != nil {
		b.Fatal(err)
	}
	n := 0
	next := func() []byte { n++; h := sha256.Sum256(fmt.Append(nil, n)); return h[:] }
	presented := next()
	if _, err := pool.Exec(ctx, "insert into floor_tokens (hash, grant_id) values ($1, 'grant')", presented); err != nil {
		b.Fatal(err)
	}
	const rotate = `with c as (
		update floor_tokens set consumed = true where hash = $1 and not consumed returning grant_id
	)
	insert into floor_tokens (hash, grant_id)
	select v.hash, c.grant_id from c, (values ($2::bytea), ($3::bytea)) as v (hash)`
	settle(b)
	for b.Loop() {
		access, refresh := next(), next()
		tag, err := pool.Exec(ctx, rotate, presented, access, refresh)
		if err != nil || tag.RowsAffected() != 2 {
			b.Fatal(err, tag)
		}
		presented = refresh
	}
}

// BenchmarkParallelValidate validates tokens from GOMAXPROCS goroutines,
// each its own token of its own grant (so spread over the store's
// shards). Run it with -cpu 1,2: without a global lock ns/op halves.
func BenchmarkParallelValidate(b *testing.B) {
	for _, lb := range validators()[:3] {
		b.Run("lib="+lb.name, func(b *testing.B) {
			l := lb.new(b)
			reqs := make([]*http.Request, 64)
			for i := range reqs {
				tr, err := grant(l, passwordRq)
				if err != nil {
					b.Fatal(err)
				}
				reqs[i] = bearerRequest(tr.AccessToken)
			}
			var next atomic.Int64
			settle(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				// http.Request is read-only here but the libraries may
				// set fields on it: give each goroutine its own.
				r := reqs[next.Add(1)%int64(len(reqs))].Clone(b.Context())
				w := new(statusWriter)
				for pb.Next() {
					if !l.validate(w, r) {
						b.Error("valid token refused")
						return
					}
				}
			})
		})
	}
	// The control: no library, no shared state, only the two allocations
	// our validation makes (a request copy and an identity context, with
	// pointers, as net/http's and ours have). Without a lock its ns/op
	// would halve too; how far it falls short is what the runtime's
	// allocator and garbage collector cost two goroutines on the machine.
	b.Run("lib=floor-alloc", func(b *testing.B) {
		settle(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			keep := new(allocSink)
			for pb.Next() {
				keep.req = new(requestSized)
				keep.ctx = new(identitySized)
			}
			allocSinks.Store(keep)
		})
	})
}

// requestSized and identitySized are the sizes (and pointer-bearing
// kinds) of an http.Request and of our identity context; allocSink keeps
// them on the heap.
type (
	requestSized  [38]*byte
	identitySized [14]*byte
	allocSink     struct {
		req *requestSized
		ctx *identitySized
	}
)

// allocSinks makes each goroutine's allocSink escape.
var allocSinks atomic.Pointer[allocSink]

// BenchmarkParallelIssue runs password grants from GOMAXPROCS goroutines,
// each a client at an address of its own. Run it with -cpu 1,2: without a
// global lock ns/op halves. lib=ours-one-address sends them all from one
// address: such attempts share their limiter keys, whose updates the
// limiter serializes, but are not judged one at a time, so they scale
// too, less.
func BenchmarkParallelIssue(b *testing.B) {
	b.Run("lib=ours-one-address", func(b *testing.B) {
		parallelGrants(b, oursMemory(b), func() string { return "192.0.2.1:50000" })
	})
	for _, lb := range libs[:6] {
		switch lb.name {
		case "fosite", "ours-logged":
			continue // bcrypt is the whole cost; fosite-sha256 shows the library
		}
		b.Run("lib="+lb.name, func(b *testing.B) {
			var next atomic.Int64
			parallelGrants(b, lb.new(b), func() string { return fmt.Sprintf("192.0.2.%d:50000", next.Add(1)) })
		})
	}
}

// parallelGrants runs password grants of l from GOMAXPROCS goroutines,
// each from the address addr gives it.
func parallelGrants(b *testing.B, l *lib, addr func() string) {
	settle(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w, q := new(recorder), new(requester)
		q.remoteAddr = addr()
		for pb.Next() {
			w.reset()
			l.token.ServeHTTP(w, q.next(l, passwordRq))
			if w.Code != http.StatusOK {
				b.Error(w.Code, w.Body.String())
				return
			}
		}
	})
}

// memoryTokens is how many live tokens BenchmarkMemoryPerToken stores:
// grants of an access and a refresh token each.
const memoryTokens = 1_000_000

// BenchmarkMemoryPerToken reports the heap our memory store holds per
// live token (bytes/token) with memoryTokens tokens stored, as the
// provider stores them: grants of one access and one refresh token, real
// token hashes, 1000 users. ns/op is the time to store them all.
func BenchmarkMemoryPerToken(b *testing.B) {
	const grants, users = memoryTokens / 2, 1000
	userIDs := make([]string, users)
	for i := range userIDs {
		userIDs[i] = "user-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
	}
	scopes := []string{"read"}
	for b.Loop() {
		now := time.Now()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := memory.New(memory.Config{})
		for i := range grants {
			gid, err := token.NewGrantID()
			if err != nil {
				b.Fatal(err)
			}
			_, access, err := token.New(storage.KindAccess, gid)
			if err != nil {
				b.Fatal(err)
			}
			_, refresh, err := token.New(storage.KindRefresh, gid)
			if err != nil {
				b.Fatal(err)
			}
			g := &storage.Grant{ID: gid, ClientID: clientID, UserID: userIDs[i%users], Scopes: scopes,
				CreatedAt: now, ExpiresAt: now.Add(720 * time.Hour)}
			err = s.CreateGrant(b.Context(), g,
				storage.Token{Hash: access.Hash, Kind: storage.KindAccess, GrantID: gid, IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
				storage.Token{Hash: refresh.Hash, Kind: storage.KindRefresh, GrantID: gid, IssuedAt: now, ExpiresAt: now.Add(720 * time.Hour)})
			if err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/memoryTokens, "bytes/token")
		runtime.KeepAlive(s)
	}
}
