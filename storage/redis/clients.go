package redis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauth2provider/oauth2provider/storage"
)

// storedClient is a client as stored: JSON, with CreatedAt in Unix
// nanoseconds so it reads back exactly (see encCreatedAt for a time
// beyond what those can hold). Write is a random ID of the call that
// wrote it, so that the call, sent again by go-redis after its reply was
// lost, knows its own write (see newWriteID); a client stored before it
// existed has none. Revision is the last member (see
// updateClientScript); a client stored before it existed has none and
// reads as revision 1.
type storedClient struct {
	ID            string   `json:"id"`
	SecretHash    string   `json:"secret_hash,omitempty"`
	GrantTypes    []string `json:"grant_types,omitempty"`
	Scopes        []string `json:"scopes,omitempty"`
	DefaultScopes []string `json:"default_scopes,omitempty"`
	RedirectURIs  []string `json:"redirect_uris,omitempty"`
	Public        bool     `json:"public,omitempty"`
	FirstParty    bool     `json:"first_party,omitempty"`
	Disabled      bool     `json:"disabled,omitempty"`
	CreatedAt     string   `json:"created_at,omitempty"`
	Write         string   `json:"write,omitempty"`
	Revision      int64    `json:"revision,omitempty"`
}

// newWriteID returns a random ID for one call that writes a client
// (storedClient.Write).
func newWriteID() string { return rand.Text() }

// encodeClient returns c as stored by the write write (see newWriteID)
// with the given revision; 0 leaves the revision out.
func encodeClient(c *storage.Client, write string, revision int64) ([]byte, error) {
	if !allUTF8([]string{c.ID, c.SecretHash}) || !allUTF8(c.GrantTypes) || !allUTF8(c.Scopes) ||
		!allUTF8(c.DefaultScopes) || !allUTF8(c.RedirectURIs) {
		return nil, errNotUTF8
	}
	return json.Marshal(storedClient{
		ID: c.ID, SecretHash: c.SecretHash, GrantTypes: c.GrantTypes, Scopes: c.Scopes,
		DefaultScopes: c.DefaultScopes, RedirectURIs: c.RedirectURIs, Public: c.Public,
		FirstParty: c.FirstParty, Disabled: c.Disabled, CreatedAt: encCreatedAt(c.CreatedAt),
		Write: write, Revision: revision,
	})
}

func decodeClient(b []byte) (*storage.Client, error) {
	var sc storedClient
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, fmt.Errorf("bad stored client: %w", err)
	}
	created, err := decCreatedAt(sc.CreatedAt)
	if err != nil {
		return nil, err
	}
	revision := sc.Revision
	if revision == 0 {
		revision = 1 // stored before revisions existed
	}
	return &storage.Client{
		ID: sc.ID, SecretHash: sc.SecretHash, GrantTypes: sc.GrantTypes, Scopes: sc.Scopes,
		DefaultScopes: sc.DefaultScopes, RedirectURIs: sc.RedirectURIs, Public: sc.Public,
		FirstParty: sc.FirstParty, Disabled: sc.Disabled, CreatedAt: created, Revision: revision,
	}, nil
}

// encCreatedAt encodes a client's CreatedAt: in Unix nanoseconds, as
// encTime does, when they hold it (1678 to 2262); else as Unix seconds, a
// dot and nine digits of nanoseconds, which hold any time.Time: Unix
// nanoseconds would overflow and store another time (a client imported
// with the placeholder date 2500-01-01 read back as a day of 1915).
func encCreatedAt(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if ns := t.UnixNano(); time.Unix(0, ns).Equal(t) {
		return strconv.FormatInt(ns, 10)
	}
	return strconv.FormatInt(t.Unix(), 10) + "." + fmt.Sprintf("%09d", t.Nanosecond())
}

// decCreatedAt decodes what encCreatedAt made, in UTC.
func decCreatedAt(v string) (time.Time, error) {
	sec, frac, ok := strings.Cut(v, ".")
	if !ok {
		return decTime(v)
	}
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad stored time: %w", err)
	}
	ns, err := strconv.ParseInt(frac, 10, 64)
	if err != nil || len(frac) != 9 || ns < 0 {
		return time.Time{}, fmt.Errorf("bad stored time %q", v)
	}
	return time.Unix(s, ns).UTC(), nil
}

// GetClient implements [storage.ClientStore].
func (s *Store) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	b, err := s.rdb.Get(ctx, s.clientKey(id)).Bytes()
	if err != nil {
		return nil, wrap("get client", err)
	}
	c, err := decodeClient(b)
	return c, wrap("get client", err)
}

// CreateClient implements [storage.ClientStore]. The client key is written
// with SET NX after the ID is added to the client index, so an interrupted
// create leaves at most an index entry without a client, which
// [Store.ListClients] skips. Clients never expire. The same call resent
// by go-redis after a lost reply succeeds: a SET NX that fails reads the
// client, which is this call's when it holds the call's write ID (see
// storedClient); any other creation of a taken ID is
// [storage.ErrAlreadyExists].
func (s *Store) CreateClient(ctx context.Context, c *storage.Client) error {
	const op = "create client"
	if err := c.Validate(); err != nil {
		return err
	}
	b, err := encodeClient(c, newWriteID(), 1)
	if err != nil {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	if err := s.rdb.ZAdd(ctx, s.clientIndexKey(), goredis.Z{Member: c.ID}).Err(); err != nil {
		return wrap(op, err)
	}
	ok, err := s.rdb.SetNX(ctx, s.clientKey(c.ID), b, 0).Result()
	if err != nil {
		return wrap(op, err)
	}
	if !ok {
		// Taken, or written by this very call, whose reply was lost:
		// go-redis sent it again, and its second run found the first's.
		cur, err := s.rdb.Get(ctx, s.clientKey(c.ID)).Bytes()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return wrap(op, err)
		}
		if !bytes.Equal(cur, b) {
			return fmt.Errorf("redis: %s: %w", op, storage.ErrAlreadyExists)
		}
	}
	c.Revision = 1
	return nil
}

// updateClientScript replaces a client if its revision is the expected
// one, and counts the write: one script on the client's one key, so the
// compare and the write are atomic, on a cluster too.
// KEYS: client. ARGV: the expected revision ("0" for any), the new
// client's JSON without its revision and closing brace, to which the
// script appends the revision after the stored one (a stored client
// without a revision has revision 1), and the call's write ID, which
// that JSON holds (see storedClient).
// Returns the new revision, "nf" when there is no such client, or
// "conflict" when its revision is not the expected one. Run again with
// the same arguments (go-redis resends a command whose reply was lost),
// it finds its own write and returns its revision again, writing
// nothing: a conflict for the write it made, or a second count of it,
// would be wrong.
var updateClientScript = newScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 'nf' end
local stored = cjson.decode(cur)
local rev = stored['revision'] or 1
if stored['write'] == ARGV[3] then return rev end
if ARGV[1] ~= '0' and tonumber(ARGV[1]) ~= rev then return 'conflict' end
rev = rev + 1
redis.call('SET', KEYS[1], ARGV[2] .. ',"revision":' .. string.format('%d', rev) .. '}', 'KEEPTTL')
return rev
`)

// UpdateClient implements [storage.ClientStore] with a script that
// compares the stored revision and writes the client (see
// updateClientScript); the same call resent by go-redis after a lost
// reply succeeds, counted once.
func (s *Store) UpdateClient(ctx context.Context, c *storage.Client) error {
	const op = "update client"
	if err := c.Validate(); err != nil {
		return err
	}
	if !utf8.ValidString(c.ID) { // CreateClient refuses such an ID
		return fmt.Errorf("redis: %s: %w", op, storage.ErrNotFound)
	}
	write := newWriteID()
	b, err := encodeClient(c, write, 0)
	if err != nil {
		// c cannot be stored; when there is no such client, that is
		// what the caller learns.
		if n, xerr := s.rdb.Exists(ctx, s.clientKey(c.ID)).Result(); xerr == nil && n == 0 {
			return fmt.Errorf("redis: %s: %w", op, storage.ErrNotFound)
		}
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	// b ends with the closing brace of an object that has at least an id.
	v := []string{s.clientKey(c.ID), strconv.FormatInt(c.Revision, 10), string(b[:len(b)-1]), write}
	reply, err := updateClientScript.run(ctx, s.rdb, 1, v).Result()
	if err != nil {
		return wrap(op, err)
	}
	switch reply := reply.(type) {
	case int64:
		c.Revision = reply
		return nil
	case string:
		switch reply {
		case "nf":
			return fmt.Errorf("redis: %s: %w", op, storage.ErrNotFound)
		case "conflict":
			return fmt.Errorf("redis: %s: %w", op, storage.ErrConflict)
		}
	}
	return fmt.Errorf("redis: %s: unexpected reply %v", op, reply)
}

// ListClients implements [storage.ClientStore]. It reads the client index
// (ordered by ID) and fetches the clients with one pipeline, which a
// cluster client splits by slot.
func (s *Store) ListClients(ctx context.Context) ([]*storage.Client, error) {
	const op = "list clients"
	ids, err := s.rdb.ZRange(ctx, s.clientIndexKey(), 0, -1).Result()
	if err != nil {
		return nil, wrap(op, err)
	}
	cmds := make([]*goredis.StringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Get(ctx, s.clientKey(id))
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, wrap(op, err)
	}
	out := make([]*storage.Client, 0, len(ids))
	for _, cmd := range cmds {
		b, err := cmd.Bytes()
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			return nil, wrap(op, err)
		}
		c, err := decodeClient(b)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, c)
	}
	return out, nil
}
