package redis

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// indexSlack is the share of a grant's remaining lifetime added to its
// index horizon: an index entry may outlive its grant by that much (it is
// pruned later), and in exchange an exchange touches the indexes only
// when the grant's expiry passes the horizon — for a refresh token of 30
// days rotated hourly, about once a week instead of every time.
const indexSlack = 4 // a quarter

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
// script, which also prunes expired entries and sets the key's TTL to its
// latest entry, so an index never outlives its grants. Both scripts run in
// one pipeline.
func (s *Store) index(ctx context.Context, now time.Time, gid, userID, clientID string, exp time.Time) error {
	_, err := runPipelined(ctx, s.rdb, s.indexCalls(now, gid, userID, clientID, exp, nil)...)
	return err
}

// indexCalls appends to calls the index script calls of index.
func (s *Store) indexCalls(now time.Time, gid, userID, clientID string, exp time.Time, calls []scriptCall) []scriptCall {
	nowMS := strconv.FormatInt(now.UnixMilli(), 10)
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
// RevokeUser costs about three round trips per page (on a cluster, each
// pipeline one per node, sent concurrently) and holds one page in memory,
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
	n, err := s.revokeIndex(ctx, s.clientGrantsKey(clientID), "client", clientID)
	return n, wrap("revoke client", err)
}

// revokeBatch is how many index entries revokeIndex reads at a time: it
// bounds the memory a page and its pipeline take, but for a page whose
// entries all share one score, which is read whole.
const revokeBatch = 256

// indexPageScript reads the entries of index KEYS[1] whose scores lie
// from ARGV[1] to ARGV[2] (ZRANGE BYSCORE bounds), the first ARGV[3] of
// them (-1: all), with their scores. A script, so that it always runs on
// the slot's master: go-redis may send a plain read to a replica, which
// can lag behind the master.
var indexPageScript = newScript(`return redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYSCORE', 'LIMIT', '0', ARGV[3], 'WITHSCORES')`)

// revokeIndex revokes every grant listed in index key whose field equals
// value and returns how many live grants ended. It reads the index in
// order of score (the grant's index horizon), page by page, each page
// starting past the last score of the one before: a cursor that entries
// removed meanwhile (pruned, revoked by a concurrent call) cannot move,
// so that every entry present throughout is read, on any node. A page
// ends before its last score's entries when they may go on past it
// (they start the next page), or is that score's entries alone, read
// whole, when they fill it. For each page it runs revokeScript on each
// grant in one pipeline, then removes the entries of the grants it
// found, and keeps the others: an entry whose grant does not exist yet
// may be one that CreateGrant is writing, and removing it would let that
// grant survive every later revocation through the index. Entries of
// grants that never come are pruned when they expire. An entry read
// twice (its score raised by an exchange while the scan ran) is revoked
// twice, harmlessly: the second call finds the grant ended and does not
// count it. On an error it returns the live grants ended by every call
// that answered, in the failed pipeline and before it, and leaves the
// entries of the failed page in the index.
func (s *Store) revokeIndex(ctx context.Context, key, field, value string) (int, error) {
	now := instant(s.now())
	n := 0
	from := "-inf"
	var (
		calls []scriptCall
		done  []any
	)
	for {
		page, err := s.indexPage(ctx, key, from, "+inf", revokeBatch)
		if err != nil {
			return n, err
		}
		more := len(page) == revokeBatch
		if more {
			last := page[len(page)-1].score
			cut := len(page)
			for cut > 0 && page[cut-1].score == last {
				cut--
			}
			if cut > 0 {
				page = page[:cut]
			} else if page, err = s.indexPage(ctx, key, last, last, -1); err != nil {
				return n, err
			}
		}
		calls, done = calls[:0], done[:0]
		for _, e := range page {
			calls = append(calls, revokeScript.call(2, s.revokeArgs(e.id, now, field, value)))
		}
		if len(calls) > 0 {
			cmds, err := runPipelined(ctx, s.rdb, calls...)
			for i, cmd := range cmds {
				res, cerr := cmd.Int()
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
					done = append(done, page[i].id)
				}
			}
			if err != nil {
				return n, err
			}
		}
		if len(done) > 0 {
			if err := s.rdb.ZRem(ctx, key, done...).Err(); err != nil {
				return n, err
			}
		}
		if !more {
			return n, nil
		}
		from = "(" + page[len(page)-1].score
	}
}

// indexEntry is a grant ID in an index, with its score as Redis writes
// it (an integer of milliseconds, written exactly).
type indexEntry struct{ id, score string }

// indexPage returns the first count (-1: all) entries of index key with
// scores from min to max (ZRANGE BYSCORE bounds), in order.
func (s *Store) indexPage(ctx context.Context, key, min, max string, count int) ([]indexEntry, error) {
	v, err := indexPageScript.run(ctx, s.rdb, 1, []string{key, min, max, strconv.Itoa(count)}).StringSlice()
	if err != nil {
		return nil, err
	}
	if len(v)%2 != 0 {
		return nil, errors.New("redis: index page: odd reply")
	}
	page := make([]indexEntry, len(v)/2)
	for i := range page {
		page[i] = indexEntry{id: v[2*i], score: v[2*i+1]}
	}
	return page, nil
}
