package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauth2provider/oauth2provider/storage"
)

// errTokenGrant reports tokens passed to CreateGrant that name another grant.
var errTokenGrant = errors.New("token GrantID differs from the grant's ID")

// errTimeRange refuses a time the store cannot keep as it is: it writes
// times in Unix nanoseconds, which hold the years 1678 to 2262 (a time
// past them would come back as another).
var errTimeRange = errors.New("a time outside the years 1678-2262 cannot be stored")

// minNanoTime is the first instant Unix nanoseconds hold (maxInstant
// the last).
var minNanoTime = time.Unix(0, math.MinInt64)

// nanoTime reports whether t is zero or in Unix nanoseconds' range.
func nanoTime(t time.Time) bool {
	return t.IsZero() || (!t.Before(minNanoTime) && !t.After(maxInstant))
}

// errNoGrantID reports a grant passed to CreateGrant whose ID gives its
// keys no hash tag (see hashTagged).
var errNoGrantID = errors.New(`grant ID is empty or starts with "}"`)

// CreateGrant implements [storage.TokenStore]. The grant, its token set and
// its tokens are written by one script, sent in one pipeline with the
// scripts that add the grant to its user's and client's indexes. The
// grant's expiry is kept at least as late as its tokens'. The same call
// resent after a lost reply (go-redis retries) succeeds when the grant it
// wrote is there with all of its tokens; any other creation under a
// taken ID is [storage.ErrAlreadyExists].
func (s *Store) CreateGrant(ctx context.Context, g *storage.Grant, tokens ...storage.Token) error {
	const op = "create grant"
	if !hashTagged(g.ID) {
		return fmt.Errorf("redis: %s: %w", op, errNoGrantID)
	}
	base, gkey, skey := s.grantKeys(g.ID)
	exp := g.ExpiresAt
	// The script's keys, then its arguments (see createScript).
	nkeys := 2 + len(tokens)
	v := make([]string, 0, nkeys+11+7*len(tokens))
	v = append(v, gkey, skey)
	if repeatsHash(tokens) {
		return fmt.Errorf("redis: %s: %w", op, storage.ErrAlreadyExists)
	}
	for _, t := range tokens {
		if t.GrantID != g.ID {
			return fmt.Errorf("redis: %s: %w", op, errTokenGrant)
		}
		v = append(v, tokenKey(base, t.Hash))
		if t.ExpiresAt.After(exp) {
			exp = t.ExpiresAt
		}
	}
	now := s.now()
	ix := indexHorizon(now, exp)
	v = append(v, instant(now))
	v, err := appendGrant(v, g)
	if err != nil {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	v = append(v, instant(exp), instant(ix), strconv.FormatInt(ttlMillis(now, exp), 10))
	for i := range tokens {
		if v, err = appendToken(v, v[2+i], now, &tokens[i]); err != nil {
			return fmt.Errorf("redis: %s: %w", op, err)
		}
	}
	// The indexes and the grant in one round trip. On one server the
	// indexes are written first; on a cluster they may not be, but a
	// grant is used only through the tokens CreateGrant's success hands
	// out, so a grant written without its index entries (CreateGrant then
	// fails) is never used and expires as it would. An index entry
	// without its grant is harmless: revocation through an index checks
	// that the grant still belongs to the user or client.
	calls := s.indexCalls(now, g.ID, g.UserID, g.ClientID, ix, make([]scriptCall, 0, 3))
	calls = append(calls, createScript.call(nkeys, v))
	cmds, err := runPipelined(ctx, s.rdb, calls...)
	if err != nil {
		return wrap(op, err)
	}
	res, err := cmds[len(cmds)-1].Text()
	if err != nil {
		return wrap(op, err)
	}
	if res == "exists" {
		return fmt.Errorf("redis: %s: %w", op, storage.ErrAlreadyExists)
	}
	return nil
}

// LookupToken implements [storage.TokenStore]. It reads the token and its
// grant with two HMGETs in one pipeline (one round trip: the keys share a
// slot) and checks kind, consumption, revocation and expiry here.
//
// The two reads need no transaction. Every write to a grant is a script,
// atomic, and the token is read first: a revocation between the reads
// has already marked the grant revoked when it is read, so the lookup
// refuses the token, as it would after the revocation; one before both is
// seen by both. An exchange or extension between them only moves
// expiries later. So the answer is always the one a lookup at some
// instant between the reads would give, as with MULTI/EXEC, which costs
// the server 16 % more and the client 8 allocations.
func (s *Store) LookupToken(ctx context.Context, kind storage.TokenKind, ref storage.TokenRef) (*storage.TokenInfo, error) {
	const op = "lookup token"
	if !hashTagged(ref.GrantID) { // the keys would span slots
		return nil, fmt.Errorf("redis: %s: %w", op, storage.ErrNotFound)
	}
	base, gkey, _ := s.grantKeys(ref.GrantID)
	now := instant(s.now())
	// Both commands and their keys in one allocation; a key is passed as a
	// *string, which go-redis writes as the string and which, unlike a
	// string, boxes into an interface without allocating.
	cmds := new(lookupCommands)
	cmds.token, cmds.grant = lookupTokenFields, lookupGrantFields
	cmds.tkey, cmds.gkey = tokenKey(base, ref.Hash), gkey
	cmds.token[1], cmds.grant[1] = &cmds.tkey, &cmds.gkey
	p := s.rdb.Pipeline()
	tc := p.Do(ctx, cmds.token[:]...)
	gc := p.Do(ctx, cmds.grant[:]...)
	if _, err := p.Exec(ctx); err != nil {
		return nil, wrap(op, err)
	}
	t, err := tc.Slice()
	if err != nil {
		return nil, wrap(op, err)
	}
	g, err := gc.Slice()
	if err != nil {
		return nil, wrap(op, err)
	}
	if len(t) != len(lookupTokenFields)-2 || len(g) != len(lookupGrantFields)-2 {
		return nil, fmt.Errorf("redis: %s: unexpected reply", op)
	}
	// Missing fields read as "": a missing kind or expiry (no such key)
	// fails its check below. A grant's client may be empty (a cookie
	// session's), so the grant's existence is told by nil, as Redis
	// answers HMGET on a missing key.
	grantMissing := g[0] == nil
	var tv [5]string
	for i, v := range t {
		tv[i], _ = v.(string)
	}
	var gv [9]string
	for i, v := range g {
		gv[i], _ = v.(string)
	}
	if tv[0] == "" || tv[0] != strconv.Itoa(int(kind)) || tv[4] != "0" || !instantBefore(now, tv[3]) ||
		grantMissing || gv[8] != "0" || !instantBefore(now, gv[7]) {
		return nil, fmt.Errorf("redis: %s: %w", op, storage.ErrNotFound)
	}
	ti := &storage.TokenInfo{Token: storage.Token{Hash: ref.Hash, Kind: kind, GrantID: ref.GrantID}}
	if err := decodeToken(&ti.Token, tv[1], tv[2], tv[3]); err != nil {
		return nil, fmt.Errorf("redis: %s: %w", op, err)
	}
	if err := decodeGrant(&ti.Grant, ref.GrantID, gv[:8]); err != nil {
		return nil, fmt.Errorf("redis: %s: %w", op, err)
	}
	return ti, nil
}

// lookupTokenFields and lookupGrantFields are the HMGET commands of
// LookupToken, the key (index 1) left to fill: the token's fields, and the
// grantFields, expires and revoked. They are built once so that a lookup
// boxes no field name.
var (
	lookupTokenFields = [...]any{"hmget", nil, "kind", "scopes", "issued", "expires", "consumed"}
	lookupGrantFields = [...]any{"hmget", nil, "client", "user", "scopes", "binding", "created", "code", "uname", "expires", "revoked"}
)

// lookupCommands are the two commands of one LookupToken and their keys.
type lookupCommands struct {
	token      [len(lookupTokenFields)]any
	grant      [len(lookupGrantFields)]any
	tkey, gkey string
}

// ExchangeToken implements [storage.TokenStore]. Without x.Check it is one
// script. With x.Check, a first script validates the presented token
// without writing (it does revoke the grant on reuse), Check runs on the
// grant it returned, and a second script re-validates everything and
// commits only if the grant is unchanged, so Check's verdict holds for the
// state that is committed. When the exchange would move the grant's expiry
// past its index horizon, the committing script writes nothing and says
// so; the user and client indexes are raised (one more round trip), then
// the script runs again (a third). Should indexing fail, nothing was
// consumed and the error is returned: the client's retry with the same
// token is no reuse. x.Bind is written to the grant's binding field by
// the committing script, when that field is empty. x.ReuseGrace is judged
// by the scripts against the instant the token hash records of its first
// consumption (field at; a token consumed by a version before it has
// none, and no grace), and ends early once a token of the grant has a
// later at (see exchangeScript); only a consumed token costs that check,
// and only one within its grace the scan of the grant's token set.
func (s *Store) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	const op = "exchange token"
	if !hashTagged(x.Presented.GrantID) || (x.Kind != storage.KindRefresh && x.Kind != storage.KindCode) {
		return nil, fmt.Errorf("redis: %s: %w", op, storage.ErrNotFound)
	}
	if repeatsHash(x.Issue) {
		return nil, fmt.Errorf("redis: %s: %w", op, storage.ErrAlreadyExists)
	}
	gid := x.Presented.GrantID
	base, gkey, skey := s.grantKeys(gid)
	now := s.now()
	// The script's keys, then its arguments (see exchangeScript).
	nkeys := 3 + len(x.Issue)
	v := make([]string, 0, nkeys+17+7*len(x.Issue))
	v = append(v, gkey, skey, tokenKey(base, x.Presented.Hash))
	for _, t := range x.Issue {
		v = append(v, tokenKey(base, t.Hash))
	}
	head := len(v)
	v = append(v, instant(now), strconv.Itoa(int(x.Kind)), x.ClientID, base, "commit")
	guard := len(v)
	v = append(v, "0", "", "", "", "", "", "", "") // no guard: the flag and seven unused values
	v = append(v, graceBound(now, x))

	if x.Check != nil {
		peek := append(append(make([]string, 0, 3+len(v)-head), v[:3]...), v[head:]...)
		peek[3+guard-head-1] = "peek"
		g, raw, err := s.runExchange(ctx, 3, peek, gid)
		if err == nil && g == nil { // a peek never asks for indexing
			err = errors.New("unexpected script reply")
		}
		if err != nil {
			s.unindexReused(ctx, gid, raw, err)
			return nil, wrap(op, err)
		}
		// The guard is the grant as stored, taken before Check could
		// touch the copy it is shown.
		v[guard] = "1"
		copy(v[guard+1:], raw[:len(grantFields)])
		if err := x.Check(g); err != nil {
			return nil, err
		}
	}

	issueExp := now
	for _, t := range x.Issue {
		if t.ExpiresAt.After(issueExp) {
			issueExp = t.ExpiresAt
		}
	}
	v = append(v, instant(indexHorizon(now, issueExp)), string(strconv.AppendInt([]byte{'('}, scoreMillis(now), 10)), x.Bind, "")
	held := len(v) - 1
	var err error
	for i := range x.Issue {
		if v, err = appendToken(v, v[3+i], now, &x.Issue[i]); err != nil {
			return nil, fmt.Errorf("redis: %s: %w", op, err)
		}
	}
	// The user and client this call indexed the grant under, if it did.
	var indexed []string
	for range 3 {
		g, raw, err := s.runExchange(ctx, nkeys, v, gid)
		if err != nil {
			s.unindexReused(ctx, gid, raw, err)
			if indexed != nil && errors.Is(err, storage.ErrNotFound) {
				s.unindexIfRevoked(ctx, gid, indexed[0], indexed[1])
			}
			return nil, wrap(op, err)
		}
		if g != nil {
			return g, nil
		}
		// The new expiry passes the horizon the grant's index entries
		// hold: index it that far, then exchange (see exchangeScript).
		// Should indexing fail, nothing was consumed.
		ix, err := decTime(raw[0])
		if err != nil {
			return nil, fmt.Errorf("redis: %s: %w", op, err)
		}
		if err := s.index(ctx, now, gid, raw[1], raw[2], ix); err != nil {
			return nil, wrap(op, err)
		}
		indexed = raw[1:3]
		v[held] = raw[0]
	}
	// Not reached while every writer keeps a grant's ix at or past its
	// expiry: a run with held set counts the grant indexed up to held,
	// which is at least every new token's expiry, and a concurrent
	// extension moves ix with the expiry. A grant written otherwise
	// (another tool, a damaged key) could ask again on every run: give
	// up rather than loop.
	return nil, fmt.Errorf("redis: %s: %w", op, errIndexRace)
}

// graceBound is exchangeScript's grace argument for x at now: with
// x.ReuseGrace on a refresh token, the earliest instant of a first
// consumption whose grace has not ended (a token first consumed at at is
// within its grace while now < at + grace, that is at >= now - grace + 1
// ns), at least 0 (instants are not negative); else empty, no grace (a
// code never has any). It is computed here, in integers: Lua's numbers
// are doubles, which do not hold every Unix nanosecond of these years.
func graceBound(now time.Time, x storage.Exchange) string {
	grace := x.Grace()
	if grace == 0 {
		return ""
	}
	b := instantNanos(now) - int64(grace) + 1
	if b < 0 {
		b = 0
	}
	return strconv.FormatInt(b, 10)
}

// unindexReused removes from its indexes the grant an exchange found
// reused (err), whose user and client are raw (see runExchange). It is
// best effort: the reuse is what the caller reports, and an entry left
// behind names no live grant.
func (s *Store) unindexReused(ctx context.Context, gid string, raw []string, err error) {
	if errors.Is(err, storage.ErrTokenReused) && len(raw) == 2 {
		_ = s.unindex(ctx, gid, raw[0], raw[1])
	}
}

// unindexIfRevoked removes grant gid, which this call has just indexed
// under userID and clientID and then found gone, from those indexes when
// it is revoked: a revocation that ran between the script's "index first"
// reply and the index write removed the entries before the write added
// them anew, and revocation through an index keeps the entry of a grant
// it does not find, so they would have stayed until their score (for
// ever, with a lifetime of "never"). It is best effort, as unindexReused.
func (s *Store) unindexIfRevoked(ctx context.Context, gid, userID, clientID string) {
	_, gkey, _ := s.grantKeys(gid)
	if v, err := s.rdb.HGet(ctx, gkey, "revoked").Result(); err == nil && v == "1" {
		_ = s.unindex(ctx, gid, userID, clientID)
	}
}

// errIndexRace is ExchangeToken's error when the script kept asking for
// the grant to be indexed after it was (see the end of ExchangeToken).
var errIndexRace = errors.New("grant expiry moved while indexing it; try again")

// runExchange runs exchangeScript on the keys and arguments v, the first
// nkeys of them keys, and decodes its reply. It returns the grant and the
// raw reply after the status: the grantFields values and expires; or, for
// "index", a nil grant and the horizon, user ID and client ID the grant
// must be indexed with first.
func (s *Store) runExchange(ctx context.Context, nkeys int, v []string, gid string) (*storage.Grant, []string, error) {
	res, err := exchangeScript.run(ctx, s.rdb, nkeys, v).Text()
	if err != nil {
		return nil, nil, err
	}
	vals, ok := unpack(make([]string, 0, len(grantFields)+2), res)
	if !ok || len(vals) == 0 {
		return nil, nil, errors.New("unexpected script reply")
	}
	switch vals[0] {
	case "ok":
	case "index":
		if len(vals) != 4 {
			return nil, nil, errors.New("unexpected script reply")
		}
		return nil, vals[1:], nil
	case "nf", "changed":
		return nil, nil, storage.ErrNotFound
	case "reused":
		// The grant's user and client, whose index entries the caller
		// removes (see unindex), and which the error names.
		if len(vals) == 3 {
			return nil, vals[1:], &storage.ReuseError{GrantID: gid, ClientID: vals[2], UserID: vals[1]}
		}
		return nil, nil, storage.ErrTokenReused
	case "exists":
		return nil, nil, storage.ErrAlreadyExists
	default:
		return nil, nil, errors.New("unexpected script reply")
	}
	if len(vals) != len(grantFields)+2 {
		return nil, nil, errors.New("unexpected script reply")
	}
	g := &storage.Grant{}
	if err := decodeGrant(g, gid, vals[1:len(grantFields)+2]); err != nil {
		return nil, nil, err
	}
	return g, vals[1:], nil
}

// ExtendToken implements [storage.TokenStore] with one script while the
// new expiry stays within the horizon the grant's index entries hold.
// Past it, the script writes nothing and names the horizon wanted; the
// grant is indexed that far (one more round trip), then the script runs
// again and extends (a third). Should indexing fail, the token keeps its
// expiry and ExtendToken fails: a grant extended past its index entries
// would survive RevokeUser and RevokeClient once they expired.
func (s *Store) ExtendToken(ctx context.Context, ref storage.TokenRef, expiresAt time.Time) error {
	const op = "extend token"
	if !hashTagged(ref.GrantID) {
		return fmt.Errorf("redis: %s: %w", op, storage.ErrNotFound)
	}
	if !nanoTime(expiresAt) {
		return fmt.Errorf("redis: %s: %w", op, errTimeRange)
	}
	base, gkey, skey := s.grantKeys(ref.GrantID)
	tkey := tokenKey(base, ref.Hash)
	now := s.now()
	args := []string{gkey, skey, tkey,
		instant(now), instant(expiresAt), tkey[len(tkey)-2*len(ref.Hash):], instant(indexHorizon(now, expiresAt)),
		strconv.FormatInt(ttlMillis(now, expiresAt), 10), strconv.FormatInt(scoreMillis(expiresAt), 10), "0"}
	vals, err := s.runExtend(ctx, args)
	if err != nil {
		return wrap(op, err)
	}
	if vals[3] == "1" { // within the horizon the indexes hold: extended
		return nil
	}
	ix, err := decTime(vals[4])
	if err != nil {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	if err := s.index(ctx, now, ref.GrantID, vals[1], vals[0], ix); err != nil {
		return wrap(op, err)
	}
	args[6], args[9] = vals[4], "1"
	user, client := vals[1], vals[0]
	if vals, err = s.runExtend(ctx, args); err != nil {
		if errors.Is(err, goredis.Nil) {
			s.unindexIfRevoked(ctx, ref.GrantID, user, client)
		}
		return wrap(op, err)
	}
	if vals[3] != "1" {
		// The grant's expiry moved past what was just indexed meanwhile
		// (a concurrent exchange or extension): nothing was extended.
		return fmt.Errorf("redis: %s: the grant changed concurrently; try again", op)
	}
	return nil
}

// runExtend runs extendScript on args and returns its five values.
func (s *Store) runExtend(ctx context.Context, args []string) ([]string, error) {
	vals, err := extendScript.run(ctx, s.rdb, 3, args).StringSlice()
	if err == nil && len(vals) != 5 {
		err = errors.New("unexpected script reply")
	}
	return vals, err
}

// RevokeGrant implements [storage.TokenStore] with one script that marks
// the grant revoked and deletes its tokens, except consumed ones, which
// stay until they expire so that presenting one is still reuse. The grant
// hash stays as a tombstone as long as the last of them, and five minutes
// more (the skew grace), at most until it expires. Its entries in the user and
// client indexes are then removed (see unindex), one more round trip, best
// effort: should that fail, RevokeGrant still succeeds, and the entries
// expire with their scores.
func (s *Store) RevokeGrant(ctx context.Context, grantID string) error {
	if !hashTagged(grantID) {
		return nil
	}
	res, userID, clientID, err := revokeReply(revokeScript.run(ctx, s.rdb, 2, s.revokeArgs(grantID, instant(s.now()))))
	if err != nil {
		return wrap("revoke grant", err)
	}
	if res == revokedNone {
		return nil
	}
	// Best effort, as after a reuse: the grant is revoked, which is what
	// the caller asked, and an entry left behind names no live grant.
	_ = s.unindex(ctx, grantID, userID, clientID)
	return nil
}

// unindex removes a revoked grant from its user's and client's indexes:
// its tombstone goes long before the entries would expire (for ever,
// with a lifetime of "never"), and revocation through an index keeps the
// entry of a grant it does not find, which may be one being created.
func (s *Store) unindex(ctx context.Context, grantID, userID, clientID string) error {
	_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		if userID != "" {
			p.ZRem(ctx, s.userGrantsKey(userID), grantID)
		}
		p.ZRem(ctx, s.clientGrantsKey(clientID), grantID)
		return nil
	})
	return err
}

// Results of revokeScript.
const (
	revokedNone  = 0 // no such grant, or not the matched one
	revokedLive  = 1 // a live grant ended
	revokedEnded = 2 // the grant was already revoked or expired
)

// revokeArgs are revokeScript's keys and arguments for grant grantID at
// now; match, when given, is a grant field, the value it must have and
// the ID of the revocation's page.
func (s *Store) revokeArgs(grantID, now string, match ...string) []string {
	base, gkey, skey := s.grantKeys(grantID)
	return append(append(make([]string, 0, 4+len(match)), gkey, skey, now, base), match...)
}

// appendGrant appends the grant's immutable fields in grantFields order.
func appendGrant(v []string, g *storage.Grant) ([]string, error) {
	if !nanoTime(g.CreatedAt) || !nanoTime(g.ExpiresAt) {
		return nil, errTimeRange
	}
	scopes, err := encScopes(g.Scopes)
	if err != nil {
		return nil, err
	}
	code := ""
	if g.Code != nil {
		if !allUTF8([]string{g.Code.RedirectURI, g.Code.Challenge, g.Code.ChallengeMethod}) {
			return nil, errNotUTF8
		}
		b, err := json.Marshal(g.Code)
		if err != nil {
			return nil, err
		}
		code = string(b)
	}
	return append(v, g.ClientID, g.UserID, scopes, g.Binding, encTime(g.CreatedAt), code, g.Username), nil
}

// decodeGrant fills g from the grantFields values followed by expires.
func decodeGrant(g *storage.Grant, id string, v []string) error {
	if len(v) != len(grantFields)+1 {
		return errors.New("bad stored grant")
	}
	g.ID, g.ClientID, g.UserID, g.Binding, g.Username = id, v[0], v[1], v[3], v[6]
	var err error
	if g.Scopes, err = decScopes(v[2]); err != nil {
		return err
	}
	if g.CreatedAt, err = decTime(v[4]); err != nil {
		return err
	}
	if v[5] != "" {
		g.Code = new(storage.CodeBinding)
		if err := json.Unmarshal([]byte(v[5]), g.Code); err != nil {
			return fmt.Errorf("bad stored code binding: %w", err)
		}
	}
	g.ExpiresAt, err = decTime(v[7])
	return err
}

// appendToken appends the seven script values of t, stored under key:
// hex hash (the end of key), kind, scopes, issued, expires, and its TTL
// from now and its set score (both in milliseconds).
func appendToken(v []string, key string, now time.Time, t *storage.Token) ([]string, error) {
	if !nanoTime(t.IssuedAt) || !nanoTime(t.ExpiresAt) {
		return nil, errTimeRange
	}
	scopes, err := encScopes(t.Scopes)
	if err != nil {
		return nil, err
	}
	// The four numbers (issued as encTime writes it, expires as instant
	// does) share one allocation.
	var buf [96]byte
	b := buf[:0]
	if !t.IssuedAt.IsZero() {
		b = strconv.AppendInt(b, t.IssuedAt.UnixNano(), 10)
	}
	issued := len(b)
	b = strconv.AppendInt(b, instantNanos(t.ExpiresAt), 10)
	expires := len(b)
	b = strconv.AppendInt(b, ttlMillis(now, t.ExpiresAt), 10)
	ttl := len(b)
	b = strconv.AppendInt(b, scoreMillis(t.ExpiresAt), 10)
	nums := string(b)
	return append(v, key[len(key)-2*len(t.Hash):], strconv.Itoa(int(t.Kind)), scopes,
		nums[:issued], nums[issued:expires], nums[expires:ttl], nums[ttl:]), nil
}

// decodeToken fills the stored fields of t.
func decodeToken(t *storage.Token, scopes, issued, expires string) error {
	var err error
	if t.Scopes, err = decScopes(scopes); err != nil {
		return err
	}
	if t.IssuedAt, err = decTime(issued); err != nil {
		return err
	}
	t.ExpiresAt, err = decTime(expires)
	return err
}

// errNotUTF8 refuses to store text that is not valid UTF-8 in a JSON
// value (scopes, a code binding, a client), where encoding/json would
// change it (to U+FFFD): a record comes back as it was written, or is not
// written.
var errNotUTF8 = errors.New("text that is not valid UTF-8 cannot be stored as JSON unchanged")

// allUTF8 reports whether every string of ss is valid UTF-8.
func allUTF8(ss []string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// encScopes stores nil as "" and any other slice (empty included) as JSON,
// so nil and empty stay apart.
func encScopes(sc []string) (string, error) {
	if sc == nil {
		return "", nil
	}
	if !allUTF8(sc) {
		return "", errNotUTF8
	}
	b, err := json.Marshal(sc)
	return string(b), err
}

// decScopes reverses encScopes. Scopes as encScopes writes them (printable
// ASCII, nothing to unescape) are split here without encoding/json, which
// costs a validation several allocations; anything else goes to
// json.Unmarshal.
func decScopes(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	if sc, ok := splitScopes(v); ok {
		return sc, nil
	}
	sc := []string{}
	if err := json.Unmarshal([]byte(v), &sc); err != nil {
		return nil, fmt.Errorf("bad stored scopes: %w", err)
	}
	return sc, nil
}

// splitScopes decodes a JSON array of strings of printable ASCII without
// escapes, such as ["read","write"], into substrings of v. It reports
// false for anything else, which it leaves to encoding/json.
func splitScopes(v string) ([]string, bool) {
	if len(v) < 2 || v[0] != '[' || v[len(v)-1] != ']' {
		return nil, false
	}
	body := v[1 : len(v)-1]
	if body == "" {
		return []string{}, true
	}
	sc := make([]string, 0, strings.Count(body, ",")+1)
	for {
		if len(body) < 2 || body[0] != '"' {
			return nil, false
		}
		end := 1
		for end < len(body) && body[end] != '"' {
			if c := body[end]; c < 0x20 || c > 0x7e || c == '\\' {
				return nil, false
			}
			end++
		}
		if end == len(body) {
			return nil, false
		}
		sc = append(sc, body[1:end])
		body = body[end+1:]
		if body == "" {
			return sc, true
		}
		if body[0] != ',' {
			return nil, false
		}
		body = body[1:]
	}
}

// repeatsHash reports whether two of tokens have one hash: a script
// would write the key twice, the second over the first, where every
// store refuses them with ErrAlreadyExists. (A hash already stored is
// the script's to find.)
func repeatsHash(tokens []storage.Token) bool {
	for i := range tokens {
		for j := range i {
			if tokens[j].Hash == tokens[i].Hash {
				return true
			}
		}
	}
	return false
}
