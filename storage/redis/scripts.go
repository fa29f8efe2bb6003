package redis

import (
	"context"
	"strconv"

	goredis "github.com/redis/go-redis/v9"
)

// The Lua scripts. Each runs atomically on the keys of one grant, which
// share a hash tag, so each is one EVALSHA on one Cluster slot. A lookup,
// which only reads, needs none: it is a pipeline of two HMGETs (see
// LookupToken), whose fields are those below.
//
// Grant hash fields: client, user, scopes, binding, created, code, uname
// (the immutable part, in grantFields order, but for binding, which an
// exchange with Exchange.Bind sets once on a grant that has none; a grant
// written before uname existed has none, read as ""), expires, revoked
// ("0"/"1"), ix (the instant up to which the user and client indexes
// are known to keep the grant: at least expires, with some slack, so that
// most exchanges need not touch the indexes), rv (on a grant that a
// revocation through an index ended: the ID of its page; see
// revokeScript), lc (the instant recorded for the grant's latest
// consumption: see next). A revoked grant stays as a tombstone with its consumed
// tokens, as long as the last of them and tombstoneGraceMS more (at most
// until it expires), so that every later presentation of a consumed
// token is reuse.
// Token hash fields: kind, scopes, issued, expires, consumed ("0"/"1"),
// by (on a consumed token: the hex of the first token the exchange that
// consumed it issued, when it issued any; see exchangeScript), at (on a
// consumed token: the instant it was first consumed, from which
// Exchange.ReuseGrace runs, and which ends it early for every token
// first consumed before; a token consumed by a version before at has
// none, and so no grace, nor ends another's). A grant's consumptions
// record strictly increasing instants: the store clock's now, or one
// nanosecond past the grant's lc when that is not before now (an
// instance whose clock is behind the one that consumed the previous
// token), so that "consumed after" is the order in which the scripts ran
// whatever the instances' clocks say (a grant consumed by a version
// before lc has none, and its next consumption records now).
// Instants are Unix nanoseconds as decimal strings (see instant in
// store.go); ARGV[1] is always the store clock's now. The client passes
// each new token's TTL and set score in milliseconds too (see
// appendToken), computed from the same now: Lua turns numbers into strings
// only through sprintf, which cost an exchange about a tenth of its
// instructions on the server. (An exchange that leaves the grant's expiry
// where it was gives the token set the grant key's own PTTL.)

// luaPrelude holds the helpers every grant script uses.
var luaPrelude = `
-- lt reports a < b for non-negative decimal integers without leading zeros.
local function lt(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
-- after returns the instant to record for a consumption at now of a
-- grant whose latest consumption recorded lc (or nil): now, or one past
-- lc when now is not after it, so that a grant's consumptions record
-- strictly increasing instants whatever the clocks of the instances.
local function after(lc, now)
  if not lc or lt(lc, now) then return now end
  local i = #lc
  while i > 0 and lc:sub(i, i) == '9' do i = i - 1 end
  if i == 0 then return '1' .. string.rep('0', #lc) end
  return lc:sub(1, i - 1) .. string.char(lc:byte(i) + 1) .. string.rep('0', #lc - i)
end
-- ttl returns the milliseconds from now until exp, at least 1.
local function ttl(exp, now)
  local ms = math.ceil((tonumber(exp) - tonumber(now)) / 1000000)
  if ms < 1 then ms = 1 end
  if ms > 1e15 then ms = 1e15 end
  return string.format('%d', ms)
end
-- revoke marks the grant revoked and deletes its tokens, except consumed
-- ones: they stay until their own expiry so that presenting one again is
-- still reuse. The grant hash and its token set stay as a tombstone as
-- long as the last of those, and tombstoneGraceMS more (never longer than
-- they would have), then go: a grant with none (a session logged out)
-- keeps only the grace, which covers a creation resent after a lost reply
-- (it finds the tombstone and fails instead of writing the grant anew)
-- and the clock skew between the instances that wrote and revoke it.
local function revoke(base, gkey, skey, now)
  local hs = redis.call('ZRANGE', skey, 0, -1, 'WITHSCORES')
  local last = 0
  for i = 1, #hs, 2 do
    local k = base .. ':t:' .. hs[i]
    if redis.call('HGET', k, 'consumed') ~= '1' then
      redis.call('DEL', k)
      redis.call('ZREM', skey, hs[i])
    elseif tonumber(hs[i+1]) > last then
      last = tonumber(hs[i+1])
    end
  end
  redis.call('HSET', gkey, 'revoked', '1')
  local ms = last - math.floor(tonumber(now) / 1000000)
  if ms < 0 then ms = 0 end
  ms = ms + ` + tombstoneGraceMS + `
  local cur = redis.call('PTTL', gkey)
  if cur < 0 or ms < cur then
    local v = string.format('%d', ms)
    redis.call('PEXPIRE', gkey, v)
    redis.call('PEXPIRE', skey, v)
  end
end
-- pasthorizon returns nil when expiry exp is within index horizon ix,
-- else the horizon to index the grant up to: want, or exp if later.
local function pasthorizon(ix, exp, want)
  if not lt(ix, exp) then return nil end
  if lt(want, exp) then return exp end
  return want
end
-- pack returns its arguments (strings; nil reads as "") as one string,
-- each as its length in bytes, ':' and itself, so that the client reads
-- a reply of many values as one string (see unpack).
local function pack(...)
  local t = {}
  for i = 1, select('#', ...) do
    local v = select(i, ...) or ''
    t[#t+1] = #v
    t[#t+1] = ':'
    t[#t+1] = v
  end
  return table.concat(t)
end
-- packgrant packs an exchange's nine reply values (strings) as unpack
-- reads them: the byte 9, each value's length as a byte, then the values.
-- It formats no number, which makes it about six times cheaper than pack
-- (callgrind); a value of 256 bytes or more falls back to pack.
local function packgrant(a, b, c, d, e, f, g, h, i)
  local la, lb, lc, ld, le, lf, lg, lh, li = #a, #b, #c, #d, #e, #f, #g, #h, #i
  if math.max(la, lb, lc, ld, le, lf, lg, lh, li) > 255 then
    return pack(a, b, c, d, e, f, g, h, i)
  end
  return string.char(9, la, lb, lc, ld, le, lf, lg, lh, li) .. a .. b .. c .. d .. e .. f .. g .. h .. i
end
-- puttokens writes a token hash under each of KEYS[j..], from seven ARGV
-- values each, the first at ARGV[i] (hex, kind, scopes, issued, expires,
-- TTL and score in ms), with its TTL, and adds them all to the set skey
-- with one ZADD.
local function puttokens(j, i, skey)
  local z = {}
  for k = j, #KEYS do
    local a = i + (k - j) * 7
    redis.call('HSET', KEYS[k], 'kind', ARGV[a+1], 'scopes', ARGV[a+2],
      'issued', ARGV[a+3], 'expires', ARGV[a+4], 'consumed', '0')
    redis.call('PEXPIRE', KEYS[k], ARGV[a+5])
    z[#z+1] = ARGV[a+6]
    z[#z+1] = ARGV[a]
  end
  if #z > 0 then redis.call('ZADD', skey, unpack(z)) end
end
`

// tombstoneGraceMS is how long, in milliseconds, a revoked grant's hash
// outlives its last consumed token (see revoke in luaPrelude): the clock
// skew between instances the store tolerates (indexSkewGrace), which is
// also far longer than go-redis takes to resend a command whose reply
// was lost.
var tombstoneGraceMS = strconv.FormatInt(indexSkewGrace.Milliseconds(), 10)

// grantFields are the immutable grant hash fields (binding is set at most
// once, from empty), in the order the scripts (and LookupToken) return
// them. The guard of a checked exchange compares them all: a grant bound
// between its two scripts fails the guard ("changed", not found) and
// nothing changes.
var grantFields = []string{"client", "user", "scopes", "binding", "created", "code", "uname"}

// createScript stores a new grant with its first tokens.
// KEYS: grant, token set, token keys... ARGV: now, the seven grantFields,
// expires, ix, the grant's TTL (ms), then seven values per token (hex,
// kind, scopes, issued, expires, TTL, score). Returns "ok" or "exists".
// Run again with the same arguments (go-redis resends a command whose
// reply was lost), it answers "ok" again: the grant is there, with its
// client, user and creation instant, and so is every one of its tokens
// (a grant created without tokens is "exists" the second time).
var createScript = newScript(luaPrelude + `
local now = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 1 then
  -- Without tokens, nothing tells a resend from another creation.
  if #KEYS < 3 then return 'exists' end
  local g = redis.call('HMGET', KEYS[1], 'client', 'user', 'created')
  if g[1] ~= ARGV[2] or g[2] ~= ARGV[3] or g[3] ~= ARGV[6] then return 'exists' end
  -- Every token key there (CreateGrant refuses two of one hash).
  if redis.call('EXISTS', unpack(KEYS, 3)) ~= #KEYS - 2 then return 'exists' end
  return 'ok'
end
if #KEYS > 2 and redis.call('EXISTS', unpack(KEYS, 3)) > 0 then return 'exists' end
redis.call('HSET', KEYS[1], 'client', ARGV[2], 'user', ARGV[3], 'scopes', ARGV[4],
  'binding', ARGV[5], 'created', ARGV[6], 'code', ARGV[7], 'uname', ARGV[8],
  'expires', ARGV[9], 'revoked', '0', 'ix', ARGV[10])
local t = ARGV[11]
redis.call('PEXPIRE', KEYS[1], t)
puttokens(3, 12, KEYS[2])
if #KEYS > 2 then redis.call('PEXPIRE', KEYS[2], t) end
return 'ok'
`)

// exchangeScript consumes a single-use token and stores new ones.
// KEYS: grant, token set, presented token, new token keys...
// ARGV: now, kind, client ID, grant base key, mode ("peek" or "commit"),
// guard ("1" to compare the grant with the next seven values, else "0"),
// seven grantFields, grace (with Exchange.ReuseGrace on a refresh token:
// the earliest first consumption whose grace has not ended, now less the
// grace plus 1 ns, at least 0; else empty), ix (the index horizon to
// record should the grant's expiry pass the recorded one), the pruning
// bound ("(" and now in ms), bind (the binding to give the grant when it
// has none, Exchange.Bind; empty: none), held (the horizon the caller
// has just indexed the grant up to, which then counts as held, or
// empty), then seven values per new token (as createScript's).
// Returns, packed (see unpack), "nf", "reused" (the grant is revoked),
// "exists", "changed" (the guard failed), "index" with the horizon to
// index the grant up to, its user and client (the new expiry passes the
// horizon its index entries hold: nothing was written; the caller indexes
// the grant, then runs the script again with held set), or "ok", seven
// grantFields and expires. So an exchange never consumes a token and then
// fails for want of an index write, which would leave the client only a
// consumed token to retry with, and retrying it is reuse. "peek" stops
// before any write, after the reuse check.
// A commit run again with the same arguments, as go-redis does when a
// reply is lost (MaxRetries), answers "ok" again instead of "reused": the
// consumed token records (in "by") the first new token's hex, which only
// that exchange knows (a replay of a stolen token brings its own).
// "consumed" stays "1", which versions before "by" read alike. The
// consumed token's key is kept tombstoneGraceMS at least, so that a
// resend finds it even when the token expired meanwhile (an exchange in
// its last moments); its expires field, which every check reads, stays.
// A consumed token presented again while its grace lasts (the token's
// "at" not before the grace argument, its grant not revoked, and no
// token in the grant's token set with an "at" after its own: once the
// chain moved on, on any branch, the client had its answer, and it is
// reuse) is exchanged as a live one, peek and commit alike, but its
// consumed, by and at are not written again: the grace runs from the first
// consumption, and a resend of the first exchange is still told by its
// "by". A resend of such a re-exchange finds the tokens it stored and
// answers "exists" (ErrAlreadyExists): nothing marks them as its own,
// and a client whose reply was lost again has the grace left to retry
// with new tokens.
var exchangeScript = newScript(luaPrelude + `
local now = ARGV[1]
local t = redis.call('HMGET', KEYS[3], 'kind', 'expires', 'consumed', 'by', 'at')
if not t[1] or t[1] ~= ARGV[2] or not lt(now, t[2]) then return pack('nf') end
local g = redis.call('HMGET', KEYS[1], 'client', 'user', 'scopes', 'binding', 'created', 'code', 'uname', 'expires', 'revoked', 'ix', 'lc')
if not g[1] or not lt(now, g[8]) or g[1] ~= ARGV[3] then return pack('nf') end
g[7] = g[7] or ''
-- again: a consumed token exchanged again within its grace.
local again = false
if t[3] ~= '0' then
  -- The very exchange that consumed it, sent again (its reply was lost
  -- and the client retried): its first new token is the token's mark.
  if ARGV[5] == 'commit' and #KEYS > 3 and t[4] == ARGV[19] then
    if g[9] ~= '0' then return pack('nf') end
    return packgrant('ok', g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8])
  end
  -- Within the grace of its first consumption, on a live grant, and no
  -- token of the grant consumed since (the chain moved on: the client had
  -- its answer): go on as for a live token. Only this cold path scans
  -- the token set; tokens without at (live, or consumed by a version
  -- before it) are passed over.
  again = ARGV[14] ~= '' and t[5] and g[9] == '0' and not lt(t[5], ARGV[14])
  if again then
    for _, h in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
      local at = redis.call('HGET', ARGV[4] .. ':t:' .. h, 'at')
      if at and lt(t[5], at) then
        again = false
        break
      end
    end
  end
  if not again then
    -- Reuse revokes the grant once: revoke walks every token the grant
    -- rotated through, which an already revoked grant (whose consumed
    -- tokens stay until they expire) must not let each request repeat.
    -- The grant's user and client name the index entries the caller
    -- removes: the tombstone goes before they would expire.
    if g[9] == '0' then revoke(ARGV[4], KEYS[1], KEYS[2], now) end
    return pack('reused', g[2], g[1])
  end
end
if g[9] ~= '0' then return pack('nf') end
if ARGV[5] == 'peek' then
  return pack('ok', g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8])
end
if ARGV[6] == '1' then
  for i = 1, 7 do
    if g[i] ~= ARGV[6 + i] then return pack('changed') end
  end
end
if #KEYS > 3 and redis.call('EXISTS', unpack(KEYS, 4)) > 0 then return pack('exists') end
-- The grant's new expiry (and its TTL, when it is a new token's), and
-- whether the grant's index entries hold it.
local exp, expttl = g[8], nil
for k = 4, #KEYS do
  local a = 19 + (k - 4) * 7
  if lt(exp, ARGV[a+4]) then exp, expttl = ARGV[a+4], ARGV[a+5] end
end
local ix = g[10] or g[8]
if ARGV[18] ~= '' and lt(ix, ARGV[18]) then ix = ARGV[18] end
local want = pasthorizon(ix, exp, ARGV[15])
if want then return pack('index', want, g[2], g[1]) end
if again then
  -- Consumed as it was: its by, at and key's TTL stay the first
  -- consumption's, and the grant's lc stays.
else
  local at = after(g[11], now)
  if #KEYS > 3 then
    redis.call('HSET', KEYS[3], 'consumed', '1', 'by', ARGV[19], 'at', at)
    -- Its resend must find the token, which may expire meanwhile: the key
    -- lives tombstoneGraceMS at least (its expires field is unchanged).
    local p = redis.call('PTTL', KEYS[3])
    if p >= 0 and p < ` + tombstoneGraceMS + ` then redis.call('PEXPIRE', KEYS[3], ` + tombstoneGraceMS + `) end
  else
    redis.call('HSET', KEYS[3], 'consumed', '1', 'at', at)
  end
  redis.call('HSET', KEYS[1], 'lc', at)
end
puttokens(4, 19, KEYS[2])
if ARGV[17] ~= '' and g[4] == '' then
  g[4] = ARGV[17]
  redis.call('HSET', KEYS[1], 'binding', g[4])
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[16])
if exp ~= g[8] then
  redis.call('HSET', KEYS[1], 'expires', exp)
  redis.call('PEXPIRE', KEYS[1], expttl)
else
  -- The set lives as long as its grant: a TTL from this instance's
  -- clock, ahead of the one that wrote the grant's, would let it go
  -- first. (A grant key without a TTL, as none is written, falls back.)
  expttl = redis.call('PTTL', KEYS[1])
  if expttl < 1 then expttl = ttl(exp, now) end
end
if ix ~= (g[10] or g[8]) then redis.call('HSET', KEYS[1], 'ix', ix) end
redis.call('PEXPIRE', KEYS[2], expttl)
return packgrant('ok', g[1], g[2], g[3], g[4], g[5], g[6], g[7], exp)
`)

// extendScript moves a live token's expiry, and its grant's when later,
// but never past the index horizon the grant's indexes are known to hold.
// KEYS: grant, token set, token. ARGV: now, new expires, token hex, the
// index horizon wanted for the new expiry, the new expiry's TTL and score
// in ms, and "1" when the caller has indexed the grant up to ARGV[4]
// (which then counts as held, and is recorded as ix once the extension is
// written), else "0". Returns nil when the token or its grant is not
// live, else {client, user, grant expires, written, ix}: written "1" with
// the horizon recorded; or "0" having written nothing, because the new
// expiry passes the horizon held, with the horizon to index the grant up
// to before calling again with ARGV[7] "1". So a grant never outlives
// its index entries: should indexing fail, the token keeps its old expiry.
// It trusts the ix the grant records: exchangeScript, like this script,
// records a new ix only once the caller has indexed the grant that far
// (its held argument).
var extendScript = newScript(luaPrelude + `
local now = ARGV[1]
local t = redis.call('HMGET', KEYS[3], 'expires', 'consumed')
if not t[1] or t[2] ~= '0' or not lt(now, t[1]) then return false end
local g = redis.call('HMGET', KEYS[1], 'client', 'user', 'expires', 'revoked', 'ix')
if not g[1] or g[4] ~= '0' or not lt(now, g[3]) then return false end
local exp = g[3]
if lt(exp, ARGV[2]) then exp = ARGV[2] end
local ix = g[5] or g[3]
if ARGV[7] == '1' and lt(ix, ARGV[4]) then ix = ARGV[4] end
local want = pasthorizon(ix, exp, ARGV[4])
if want then return {g[1], g[2], exp, '0', want} end
if ARGV[7] == '1' and (not g[5] or lt(g[5], ix)) then redis.call('HSET', KEYS[1], 'ix', ix) end
redis.call('HSET', KEYS[3], 'expires', ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[3])
if lt(g[3], ARGV[2]) then
  redis.call('HSET', KEYS[1], 'expires', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
elseif redis.call('PTTL', KEYS[2]) < 0 then
  -- The set went before its grant (an exchange of an earlier version,
  -- on an instance whose clock was ahead, gave it a TTL from that
  -- clock) and the ZADD wrote it anew, without one.
  redis.call('PEXPIRE', KEYS[2], ttl(g[3], now))
end
return {g[1], g[2], exp, '1', ix}
`)

// revokeScript revokes a grant and its tokens, for RevokeGrant and for
// revocation through an index. KEYS: grant, token set. ARGV: now, grant
// base key, and for an index the grant field it is of ("user" or
// "client"), the value it must have (so a stale index entry never
// revokes another grant) and a random ID of the page of the revocation
// (see revokeIndex). Returns {status, user, client}: status 1 when it
// ended a live grant, 2 when the grant was already revoked or expired
// (it is revoked now), and 0 when there is no such grant, or it does not
// have the field's value; user and client are the grant's, whose index
// entries the caller removes (a revoked grant's tombstone goes long
// before they would expire, and revocation through an index keeps the
// entry of a grant it does not find). A live grant ended through an
// index records the page's ID (the grant field rv): run again with the
// same arguments (go-redis resends a pipeline whose replies were lost),
// the script answers 1 again, so that the revocation counts the grant it
// ended; a count of 2 for it would report fewer grants ended than were.
var revokeScript = newScript(luaPrelude + `
local g = redis.call('HMGET', KEYS[1], 'expires', 'revoked', 'user', 'client', 'rv')
if not g[1] then return {0, '', ''} end
if ARGV[3] then
  local v = g[4]
  if ARGV[3] == 'user' then v = g[3] end
  if v ~= ARGV[4] then return {0, '', ''} end
end
local user, client = g[3] or '', g[4] or ''
if g[2] ~= '0' then
  if ARGV[5] and g[5] == ARGV[5] then return {1, user, client} end
  return {2, user, client}
end
revoke(ARGV[2], KEYS[1], KEYS[2], ARGV[1])
if lt(ARGV[1], g[1]) then
  if ARGV[5] then redis.call('HSET', KEYS[1], 'rv', ARGV[5]) end
  return {1, user, client}
end
return {2, user, client}
`)

// unindexScript removes the members ARGV from the index KEYS[1]: a ZREM,
// as a script so that it rides in a pipeline of script calls (see
// runPipelined). At most unindexBatch members a call.
var unindexScript = newScript(`return redis.call('ZREM', KEYS[1], unpack(ARGV))`)

// unindexBatch bounds the members of one unindexScript call, which Lua's
// unpack passes on its stack.
const unindexBatch = 1000

// indexScript adds a grant to a user or client index, or raises its score,
// prunes members whose score is before ARGV[1] and sets the index's TTL
// to its latest member, from ARGV[1]. KEYS: index. ARGV: now less
// indexSkewGrace (Unix ms), grant ID, score (index horizon, Unix ms).
var indexScript = newScript(`
local old = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not old or tonumber(old) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] then
  local ms = tonumber(top[2]) - tonumber(ARGV[1])
  if ms < 1 then ms = 1 end
  redis.call('PEXPIRE', KEYS[1], string.format('%d', ms))
end
return 0
`)

// script is a Lua script run with EVALSHA, falling back to EVAL when the
// server has not cached it (see run).
type script struct {
	src, sha string
}

// newScript returns the script of src.
func newScript(src string) *script {
	return &script{src: src, sha: goredis.NewScript(src).Hash()}
}

// numKeys are the key counts run passes without allocating.
var numKeys = [...]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// run runs sc on the first nkeys of v as KEYS and the rest as ARGV, and
// returns the reply. Every argument is passed as a *string into v (and sc),
// which go-redis writes as the string it points to: unlike a string, a
// pointer fits in an interface, so building the command allocates once
// instead of once per argument. v must not change until run returns. A
// server that has not cached the script answers NOSCRIPT; run then sends
// its body, which caches it. On a cluster, go-redis routes the command by
// its first key (argument 3), as it does for EVALSHA.
func (sc *script) run(ctx context.Context, c goredis.UniversalClient, nkeys int, v []string) *goredis.Cmd {
	call := sc.call(nkeys, v)
	cmd := c.Do(ctx, call.args...)
	if goredis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		cmd = c.Do(ctx, call.eval()...)
	}
	return cmd
}

// scriptCall is the command of one run of a script, as run sends it.
type scriptCall struct {
	sc   *script
	args []any
}

// call returns the EVALSHA command of sc on v, the first nkeys of them
// keys; see run.
func (sc *script) call(nkeys int, v []string) scriptCall {
	args := make([]any, 3+len(v))
	args[0], args[1] = "evalsha", &sc.sha
	if nkeys < len(numKeys) {
		args[2] = &numKeys[nkeys]
	} else {
		args[2] = strconv.Itoa(nkeys)
	}
	for i := range v {
		args[3+i] = &v[i]
	}
	return scriptCall{sc: sc, args: args}
}

// eval turns the call into an EVAL of the script's body and returns it.
func (c scriptCall) eval() []any {
	c.args[0], c.args[1] = "eval", &c.sc.src
	return c.args
}

// runPipelined runs calls in one pipeline: one round trip (on a cluster,
// one per node, sent concurrently), in order on each node. A call the
// server answered NOSCRIPT is sent again with its script's body, alone
// of the calls, which already ran. It returns the calls' replies and the
// first error among them.
func runPipelined(ctx context.Context, c goredis.UniversalClient, calls ...scriptCall) ([]*goredis.Cmd, error) {
	cmds := make([]*goredis.Cmd, len(calls))
	// perr is the last pipeline's own error: each command's error is read
	// below, but a pipeline refused before it ran (a hook that does not
	// call next) leaves its commands without one.
	_, perr := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, call := range calls {
			cmds[i] = p.Do(ctx, call.args...)
		}
		return nil
	})
	var noscript []int
	for i, cmd := range cmds {
		if goredis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			noscript = append(noscript, i)
		}
	}
	if len(noscript) > 0 {
		_, perr = c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, i := range noscript {
				cmds[i] = p.Do(ctx, calls[i].eval()...)
			}
			return nil
		})
	}
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return cmds, err
		}
	}
	return cmds, perr
}

// unpack appends to dst the values the scripts' pack or packgrant joined
// into v, and reports whether v was well formed. pack's replies start
// with a digit, packgrant's with its count of values, which is not one.
func unpack(dst []string, v string) ([]string, bool) {
	if v != "" && (v[0] < '0' || v[0] > '9') {
		n := int(v[0])
		if len(v) < 1+n {
			return dst, false
		}
		lens, rest := v[1:1+n], v[1+n:]
		for i := range n {
			l := int(lens[i])
			if l > len(rest) {
				return dst, false
			}
			dst = append(dst, rest[:l])
			rest = rest[l:]
		}
		return dst, rest == ""
	}
	for v != "" {
		i := 0
		n := 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' && i < 10 {
			n = n*10 + int(v[i]-'0')
			i++
		}
		if i == 0 || i == len(v) || v[i] != ':' || n > len(v)-i-1 {
			return dst, false
		}
		dst = append(dst, v[i+1:i+1+n])
		v = v[i+1+n:]
	}
	return dst, true
}
