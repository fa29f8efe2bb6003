package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// indexSlack is the share of a grant's remaining lifetime added to its
// index horizon: an index entry may outlive its grant by that much (it is
// pruned later), and in exchange an exchange touches the indexes only
// when the grant's expiry passes the horizon — for a refresh token of 30
// days rotated hourly, about once a week instead of every time.
const indexSlack = 4 // a quarter

// indexSkewGrace is how long after its score (by the writing instance's
// clock) an index entry is kept, and how much longer than its latest
// entry an index key lives: an instance whose clock is ahead must not
// prune the entry of a grant that one whose clock is behind still takes
// for live, or RevokeUser and RevokeClient would no longer find it. It is
// the clock skew between instances the store tolerates.
const indexSkewGrace = 5 * time.Minute

// indexHorizon returns how long the indexes keep a grant that expires at
// exp: exp plus a quarter of its remaining lifetime.
func indexHorizon(now, exp time.Time) time.Time {
	if !exp.After(now) {
		return exp
	}
	return exp.Add(exp.Sub(now) / indexSlack)
}

// index records grant gid, expiring at exp, in its user's index (when it
// has a user) and its client's index, raising the entry's score when it is
// already there. Each index is one key on its own slot, updated by its own
// script, which also prunes entries expired for longer than
// indexSkewGrace and sets the key's TTL to its latest entry and that
// grace, so an index never outlives its grants by more. Both scripts run
// in one pipeline.
func (s *Store) index(ctx context.Context, now time.Time, gid, userID, clientID string, exp time.Time) error {
	_, err := runPipelined(ctx, s.rdb, s.indexCalls(now, gid, userID, clientID, exp, nil)...)
	return err
}

// indexCalls appends to calls the index script calls of index.
func (s *Store) indexCalls(now time.Time, gid, userID, clientID string, exp time.Time, calls []scriptCall) []scriptCall {
	// The script prunes entries, and sets the key's TTL, from this
	// instant: now less the skew grace.
	nowMS := strconv.FormatInt(now.Add(-indexSkewGrace).UnixMilli(), 10)
	score := strconv.FormatInt(scoreMillis(exp), 10)
	if userID != "" {
		calls = append(calls, indexScript.call(1, []string{s.userGrantsKey(userID), nowMS, gid, score}))
	}
	return append(calls, indexScript.call(1, []string{s.clientGrantsKey(clientID), nowMS, gid, score}))
}

// RevokeUser implements [storage.TokenStore]. It revokes each grant in the
// user's index with its own script, so each grant ends atomically but the
// user's grants do not end all at once: a grant created while RevokeUser
// runs may survive it. It reads the index a page of about revokeBatch
// entries at a time and runs the page's scripts in one pipeline, so
// RevokeUser costs two round trips per page and one more (on a cluster,
// each pipeline one per node, sent concurrently) and holds one page in memory,
// however many grants the user has. It returns how many live grants it
// ended.
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	n, err := s.revokeIndex(ctx, s.userGrantsKey(userID), "user", userID)
	return n, wrap("revoke user", err)
}

// RevokeClient implements [storage.TokenStore] like [Store.RevokeUser],
// with the client's index.
func (s *Store) RevokeClient(ctx context.Context, clientID string) (int, error) {
	if clientID == "" {
		return 0, nil // the browser sessions' grants, which no client owns
	}
	n, err := s.revokeIndex(ctx, s.clientGrantsKey(clientID), "client", clientID)
	return n, wrap("revoke client", err)
}

// revokeBatch is how many index entries revokeIndex reads at a time: it
// bounds the memory a page and its pipeline take, but for a page whose
// entries all share one score, which is read whole.
const revokeBatch = 256

// indexPageScript removes the members ARGV[3..] from index KEYS[1] (the
// grants the previous page found), then reads the next page: the first
// ARGV[2] entries with scores from ARGV[1] ('-inf' or '(score'), with
// their scores. A full page ends before its last score's entries, which
// may go on past it and start the next page; when they fill it, it is
// that score's entries, read whole. It returns '1' when more may follow,
// else '0', then the page's member, score pairs. A script, so that it
// always runs on the slot's master: go-redis may send a plain read to a
// replica, which can lag behind the master.
var indexPageScript = newScript(`
for i = 3, #ARGV, 1000 do
  redis.call('ZREM', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
local n = tonumber(ARGV[2])
local page = redis.call('ZRANGE', KEYS[1], ARGV[1], '+inf', 'BYSCORE', 'LIMIT', 0, n, 'WITHSCORES')
if #page < 2 * n then
  table.insert(page, 1, '0')
  return page
end
local last = page[#page]
local cut = #page
while cut > 0 and page[cut] == last do cut = cut - 2 end
if cut > 0 then
  for i = #page, cut + 1, -1 do page[i] = nil end
else
  page = redis.call('ZRANGE', KEYS[1], last, last, 'BYSCORE', 'WITHSCORES')
end
table.insert(page, 1, '1')
return page
`)

// revokeIndex revokes every grant listed in index key whose field equals
// value and returns how many live grants ended. It reads the index in
// order of score (the grant's index horizon), page by page (see
// indexPageScript), each page starting past the last score of the one
// before: a cursor that entries removed meanwhile (pruned, revoked by a
// concurrent call) cannot move, so that every entry present throughout
// is read, on any node. For each page it runs revokeScript on each grant
// in one pipeline; the entries of the grants it found are removed by the
// next page's read (after the last page, by one more pipeline), and the
// others kept: an entry whose grant does not exist yet may be one that
// CreateGrant is writing, and removing it would let that grant survive
// every later revocation through the index. Entries of grants that never
// come are pruned when they expire. The grants it found leave their other
// index too (a user's grants their clients', a client's their users'),
// as after RevokeGrant: once its tombstone went, revocation through that
// index would keep the entry until its score. Those removals ride with
// the next page's read (after the last page, in the last pipeline). An entry
// read twice (its score raised by an exchange while the scan ran) is
// revoked twice, harmlessly: the second call, of another page, finds the
// grant ended and does not count it; a page's pipeline that go-redis
// sends again after its replies were lost counts the grants its first
// run ended (see revokeScript). So a revocation costs two round trips per page, and
// one more. On an error it returns the live grants ended by every call
// that answered, in the failed pipeline and before it, and leaves the
// entries of the failed page in the index.
func (s *Store) revokeIndex(ctx context.Context, key, field, value string) (int, error) {
	now := instant(s.now())
	n := 0
	// The page script's arguments: the key, the lower bound, the page
	// size, then the previous page's grants to remove.
	args := []string{key, "-inf", strconv.Itoa(revokeBatch)}
	var calls []scriptCall
	// unindex removes the grants the previous page found from their
	// other index.
	var unindex []scriptCall
	for {
		page, more, err := s.indexPage(ctx, args, unindex)
		if err != nil {
			return n, err
		}
		unindex = unindex[:0]
		args = args[:3]
		calls = calls[:0]
		// The page's revocations, resent by go-redis after a lost reply,
		// know by it the grants they ended (see revokeScript); a later
		// page, which may read an entry again, counts it no more.
		pageID := rand.Text()
		// The page's grants that can have keys (see hashTagged), each
		// revoked by its call; an entry of any other ID, which an
		// earlier version indexed, names no grant and is dropped.
		grants := make([]indexEntry, 0, len(page))
		for _, e := range page {
			if !hashTagged(e.id) {
				args = append(args, e.id)
				continue
			}
			grants = append(grants, e)
			calls = append(calls, revokeScript.call(2, s.revokeArgs(e.id, now, field, value, pageID)))
		}
		if len(calls) > 0 {
			cmds, err := runPipelined(ctx, s.rdb, calls...)
			others := map[string][]string{}
			for i, cmd := range cmds[:len(grants)] {
				res, user, client, cerr := revokeReply(cmd)
				if cerr != nil {
					// err, when set, is the first call's error, or the
					// pipeline's own when it left its calls without a
					// reply. The calls after a failed one have run all
					// the same: what they ended is counted.
					if err == nil {
						err = cerr
					}
					continue
				}
				if res == revokedLive {
					n++
				}
				if res != revokedNone {
					args = append(args, grants[i].id)
					// The grant's other index: a user's grants leave
					// their client's, a client's their user's.
					var k string
					switch {
					case field != "client":
						k = s.clientGrantsKey(client)
					case user != "": // a grant without a user has no user index
						k = s.userGrantsKey(user)
					}
					if k != "" {
						others[k] = append(others[k], grants[i].id)
					}
				}
			}
			if err != nil {
				return n, err
			}
			for k, ids := range others {
				unindex = appendUnindex(unindex, k, ids)
			}
		}
		if !more {
			if found := args[3:]; len(found) > 0 {
				unindex = appendUnindex(unindex, key, found)
			}
			if len(unindex) > 0 {
				if _, err := runPipelined(ctx, s.rdb, unindex...); err != nil {
					return n, err
				}
			}
			return n, nil
		}
		args[1] = "(" + page[len(page)-1].score
	}
}

// revokeReply reads a reply of revokeScript: its status and the grant's
// user and client.
func revokeReply(cmd *goredis.Cmd) (res int64, userID, clientID string, err error) {
	v, err := cmd.Slice()
	if err != nil {
		return 0, "", "", err
	}
	if len(v) == 3 {
		res, ok := v[0].(int64)
		userID, ok2 := v[1].(string)
		clientID, ok3 := v[2].(string)
		if ok && ok2 && ok3 {
			return res, userID, clientID, nil
		}
	}
	return 0, "", "", errors.New("unexpected script reply")
}

// appendUnindex appends to calls the unindexScript calls that remove ids
// from index key.
func appendUnindex(calls []scriptCall, key string, ids []string) []scriptCall {
	for len(ids) > 0 {
		m := min(len(ids), unindexBatch)
		calls = append(calls, unindexScript.call(1, append([]string{key}, ids[:m]...)))
		ids = ids[m:]
	}
	return calls
}

// indexEntry is a grant ID in an index, with its score as Redis writes
// it (an integer of milliseconds, written exactly).
type indexEntry struct{ id, score string }

// indexPage runs indexPageScript on args, in one pipeline with the calls
// of also when there are any, and returns the page it read and whether
// more may follow.
func (s *Store) indexPage(ctx context.Context, args []string, also []scriptCall) ([]indexEntry, bool, error) {
	var cmd *goredis.Cmd
	if len(also) == 0 {
		cmd = indexPageScript.run(ctx, s.rdb, 1, args)
	} else {
		cmds, err := runPipelined(ctx, s.rdb, append([]scriptCall{indexPageScript.call(1, args)}, also...)...)
		if err != nil {
			return nil, false, err
		}
		cmd = cmds[0]
	}
	v, err := cmd.StringSlice()
	if err != nil {
		return nil, false, err
	}
	if len(v) == 0 || len(v)%2 != 1 {
		return nil, false, errors.New("redis: index page: unexpected reply")
	}
	page := make([]indexEntry, len(v)/2)
	for i := range page {
		page[i] = indexEntry{id: v[1+2*i], score: v[2+2*i]}
	}
	return page, v[0] == "1", nil
}
