package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
)

// clientResendHook sends each command that writes a client twice and
// keeps the second reply, as go-redis does when the first reply is lost
// after the server ran the command (MaxRetries, on by default): the
// client's SET NX and updateClientScript.
type clientResendHook struct{}

func (clientResendHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (clientResendHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		name := strings.ToLower(cmd.Name())
		isSetNX := name == "setnx" || (name == "set" && len(cmd.Args()) > 3 && strings.EqualFold(cmd.Args()[3].(string), "nx"))
		if isSetNX || isScriptCall(cmd, updateClientScript) {
			if err := next(ctx, cmd); err != nil {
				return err
			}
			cmd.SetErr(nil)
		}
		return next(ctx, cmd)
	}
}

func (clientResendHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// A client creation that Redis ran and whose reply was lost, sent again
// by go-redis's retry, succeeds: its SET NX found the client it had
// just written, and CreateClient answered ErrAlreadyExists for a client
// it had created. Another creation of the ID still fails.
func TestCreateClientRetriedAfterALostReplySucceeds(t *testing.T) {
	h := newHookedHarness(t, clientResendHook{})
	c := &storage.Client{ID: "web", SecretHash: storage.HashGeneratedSecret("s3cret"), GrantTypes: []string{"authorization_code"}}
	require.NoError(t, h.s.CreateClient(h.ctx, c))
	assert.Equal(t, int64(1), c.Revision)
	got, err := h.s.GetClient(h.ctx, "web")
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.Revision)
	assert.Equal(t, c.SecretHash, got.SecretHash)

	again := &storage.Client{ID: "web", SecretHash: storage.HashGeneratedSecret("s3cret"), GrantTypes: []string{"authorization_code"}}
	assert.ErrorIs(t, h.s.CreateClient(h.ctx, again), storage.ErrAlreadyExists, "a second creation, even of the same client")
}

// An update that Redis ran and whose reply was lost, sent again by
// go-redis's retry, is the same update: it succeeds, counted once. It
// answered ErrConflict for the update it had made (the stored revision
// had moved past the expected one), and an unconditional update counted
// two writes.
func TestUpdateClientRetriedAfterALostReplyIsOneWrite(t *testing.T) {
	h := newHookedHarness(t, clientResendHook{})
	loadScripts(t, h, updateClientScript) // else the first run is an EVAL, not resent
	c := &storage.Client{ID: "web", Public: true, GrantTypes: []string{"authorization_code"}}
	unhooked := New(singleClient(t), Config{Prefix: h.prefix})
	require.NoError(t, unhooked.CreateClient(h.ctx, c))

	c.Scopes = []string{"read"}
	require.NoError(t, h.s.UpdateClient(h.ctx, c), "an update of revision 1")
	assert.Equal(t, int64(2), c.Revision)
	got, err := h.s.GetClient(h.ctx, "web")
	require.NoError(t, err)
	assert.Equal(t, int64(2), got.Revision)
	assert.Equal(t, []string{"read"}, got.Scopes)

	c.Revision = 0
	c.Scopes = []string{"write"}
	require.NoError(t, h.s.UpdateClient(h.ctx, c), "an unconditional update")
	assert.Equal(t, int64(3), c.Revision, "one write counted")
	got, err = h.s.GetClient(h.ctx, "web")
	require.NoError(t, err)
	assert.Equal(t, int64(3), got.Revision)

	stale := *got
	stale.Revision = 2
	stale.Scopes = []string{"stale"}
	assert.ErrorIs(t, h.s.UpdateClient(h.ctx, &stale), storage.ErrConflict, "a stale revision still conflicts")
	same := *got
	assert.NoError(t, h.s.UpdateClient(h.ctx, &same), "another update of the current revision")
	assert.Equal(t, int64(4), same.Revision)
}

// A client key never expires: CreateClient writes it without a TTL, and
// an update leaves it so.
func TestClientKeyHasNoTTL(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		c := &storage.Client{ID: "web", Public: true, GrantTypes: []string{"authorization_code"}}
		require.NoError(t, h.s.CreateClient(h.ctx, c))
		ttl, err := h.rdb.TTL(h.ctx, h.s.clientKey("web")).Result()
		require.NoError(t, err)
		assert.Equal(t, time.Duration(-1), ttl, "a created client must not expire")

		c.Scopes = []string{"read"}
		require.NoError(t, h.s.UpdateClient(h.ctx, c))
		ttl, err = h.rdb.TTL(h.ctx, h.s.clientKey("web")).Result()
		require.NoError(t, err)
		assert.Equal(t, time.Duration(-1), ttl, "an updated client must not expire")
	})
}

// cmdErrHook answers every command that fails reports true for with
// err, without sending it.
type cmdErrHook struct {
	err   error
	fails func(goredis.Cmder) bool
}

func (cmdErrHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (e cmdErrHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if e.fails(cmd) {
			cmd.SetErr(e.err)
			return e.err
		}
		return next(ctx, cmd)
	}
}

func (cmdErrHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// isSetNX reports whether cmd is a SET NX (or SETNX).
func isSetNX(cmd goredis.Cmder) bool {
	name := strings.ToLower(cmd.Name())
	return name == "setnx" || (name == "set" && len(cmd.Args()) > 3 && strings.EqualFold(cmd.Args()[3].(string), "nx"))
}

// A SET NX that Redis refuses (here as when it is out of memory) fails
// the creation with that error: it is not read as a taken ID.
func TestCreateClientReportsAFailedSetNX(t *testing.T) {
	oom := errors.New("OOM command not allowed when used memory > 'maxmemory'")
	h := newHookedHarness(t, cmdErrHook{err: oom, fails: isSetNX})
	err := h.s.CreateClient(h.ctx, &storage.Client{ID: "web", Public: true})
	require.Error(t, err)
	assert.NotErrorIs(t, err, storage.ErrAlreadyExists)
	assert.ErrorIs(t, err, oom)
}

// Text that is not valid UTF-8 in any one of a client's fields is
// refused, by CreateClient and by UpdateClient, and nothing is written:
// JSON would store it changed (each bad byte as U+FFFD). The
// conformance suite's case puts bad text in two fields at once, and
// stops at the refused creation.
func TestClientTextNotUTF8IsRefusedFieldByField(t *testing.T) {
	const bad = "s\xff"
	fields := []struct {
		name string
		set  func(c *storage.Client)
	}{
		{"ID", func(c *storage.Client) { c.ID = "web" + bad }},
		// (A SecretHash of such bytes is in no readable form: refused
		// with storage.ErrInvalidSecretHash before it is encoded.)
		{"GrantTypes", func(c *storage.Client) { c.GrantTypes = []string{"refresh_token", bad} }},
		{"Scopes", func(c *storage.Client) { c.Scopes = []string{"read", bad} }},
		{"DefaultScopes", func(c *storage.Client) { c.DefaultScopes = []string{"read", bad} }},
		{"RedirectURIs", func(c *storage.Client) { c.RedirectURIs = []string{"https://a.example/cb", bad} }},
	}
	each(t, func(t *testing.T, h *harness) {
		stored := &storage.Client{ID: "web", SecretHash: storage.HashGeneratedSecret("s"), GrantTypes: []string{"authorization_code"},
			Scopes: []string{"read"}, DefaultScopes: []string{"read"}, RedirectURIs: []string{"https://a.example/cb"}}
		require.NoError(t, h.s.CreateClient(h.ctx, stored))
		want, err := h.s.GetClient(h.ctx, "web")
		require.NoError(t, err)
		for _, f := range fields {
			c := &storage.Client{ID: "new", Public: true, GrantTypes: []string{"authorization_code"}}
			f.set(c)
			assert.ErrorIs(t, h.s.CreateClient(h.ctx, c), errNotUTF8, "create, bad %s", f.name)
			_, err := h.s.GetClient(h.ctx, c.ID)
			assert.ErrorIs(t, err, storage.ErrNotFound, "create, bad %s: nothing stored", f.name)
			if f.name == "ID" {
				continue // an update of such an ID is not found
			}
			u := *want
			f.set(&u)
			assert.ErrorIs(t, h.s.UpdateClient(h.ctx, &u), errNotUTF8, "update, bad %s", f.name)
			got, err := h.s.GetClient(h.ctx, "web")
			require.NoError(t, err)
			assert.Equal(t, want, got, "update, bad %s: the client unchanged", f.name)
		}
	})
}

// decCreatedAt refuses a stored time with a dot that encCreatedAt did not
// write (nanoseconds not of nine digits, negative or not a number), and
// reads one it wrote in UTC, as decTime does.
func TestDecCreatedAt(t *testing.T) {
	for _, v := range []string{"1.5", "1.0000000005", "1.-00000001", "x.000000000", "1.00000000x", "1."} {
		_, err := decCreatedAt(v)
		assert.Error(t, err, "%q", v)
	}
	for _, want := range []time.Time{
		time.Date(2500, 1, 1, 0, 0, 0, 500000000, time.UTC),
		time.Date(1600, 7, 1, 12, 0, 0, 123456789, time.UTC),
		time.Date(2026, 11, 27, 1, 2, 3, 4, time.UTC),
	} {
		v := encCreatedAt(want)
		got, err := decCreatedAt(v)
		require.NoError(t, err, v)
		assert.True(t, want.Equal(got), "%s read back as %s", want, got)
		assert.Equal(t, time.UTC, got.Location(), "%s", v)
	}
}

// A creation of a taken ID whose read of the stored client (to tell a
// resend of this call from another creation) fails reports that error:
// it is an outage, not a taken ID.
func TestCreateClientReportsAFailedRead(t *testing.T) {
	down := errors.New("connection reset by peer")
	var armed atomic.Bool
	h := newHookedHarness(t, cmdErrHook{err: down, fails: func(cmd goredis.Cmder) bool {
		return armed.Load() && strings.EqualFold(cmd.Name(), "get")
	}})
	require.NoError(t, h.s.CreateClient(h.ctx, &storage.Client{ID: "web", Public: true}))
	armed.Store(true)
	err := h.s.CreateClient(h.ctx, &storage.Client{ID: "web", Public: true})
	armed.Store(false)
	require.Error(t, err)
	assert.NotErrorIs(t, err, storage.ErrAlreadyExists)
	assert.ErrorIs(t, err, down)
}

// A client without a CreatedAt is stored without created_at, which every
// version reads as the zero time: not as seconds before year 1, which
// versions before that form cannot read.
func TestClientWithoutCreatedAtStoresNone(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		require.NoError(t, h.s.CreateClient(h.ctx, &storage.Client{ID: "web", Public: true}))
		raw, err := h.rdb.Get(h.ctx, h.s.clientKey("web")).Result()
		require.NoError(t, err)
		assert.NotContains(t, raw, "created_at")
		got, err := h.s.GetClient(h.ctx, "web")
		require.NoError(t, err)
		assert.True(t, got.CreatedAt.IsZero())
	})
}

// A client's CreatedAt reads back in UTC, whatever zone it was written
// in, from GetClient and ListClients.
func TestClientCreatedAtIsUTC(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		zone := time.FixedZone("UTC+2", 2*3600)
		for i, at := range []time.Time{
			time.Date(2026, 11, 27, 3, 4, 5, 6, zone),
			time.Date(2500, 1, 1, 0, 0, 0, 0, zone), // beyond Unix nanoseconds
		} {
			require.NoError(t, h.s.CreateClient(h.ctx, &storage.Client{ID: "c" + strconv.Itoa(i), Public: true, CreatedAt: at}))
		}
		list, err := h.s.ListClients(h.ctx)
		require.NoError(t, err)
		require.Len(t, list, 2)
		for _, c := range list {
			got, err := h.s.GetClient(h.ctx, c.ID)
			require.NoError(t, err)
			assert.Equal(t, time.UTC, got.CreatedAt.Location(), "GetClient(%s)", c.ID)
			assert.Equal(t, time.UTC, c.CreatedAt.Location(), "ListClients: %s", c.ID)
		}
	})
}

// A client stored before the stores refused an unreadable SecretHash (the
// secret itself, say) is still read as it is; an update that keeps that
// hash is refused with ErrInvalidSecretHash and writes nothing, one that
// sets a readable hash goes through.
func TestClientStoredUnreadableSecretHashIsReadAsItIs(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		legacy := `{"id":"legacy","secret_hash":"plain-secret","grant_types":["password"],"created_at":"1700000000000000000","revision":1}`
		require.NoError(t, h.rdb.ZAdd(h.ctx, h.s.clientIndexKey(), goredis.Z{Member: "legacy"}).Err())
		require.NoError(t, h.rdb.Set(h.ctx, h.s.clientKey("legacy"), legacy, 0).Err())

		c, err := h.s.GetClient(h.ctx, "legacy")
		require.NoError(t, err)
		assert.Equal(t, "plain-secret", c.SecretHash)
		list, err := h.s.ListClients(h.ctx)
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, "plain-secret", list[0].SecretHash)

		c.Disabled = true
		err = h.s.UpdateClient(h.ctx, c)
		require.ErrorIs(t, err, storage.ErrInvalidSecretHash)
		assert.NotContains(t, err.Error(), "plain-secret")
		got, err := h.s.GetClient(h.ctx, "legacy")
		require.NoError(t, err)
		assert.False(t, got.Disabled, "nothing written")
		assert.Equal(t, int64(1), got.Revision)

		c.SecretHash = storage.HashGeneratedSecret("new")
		require.NoError(t, h.s.UpdateClient(h.ctx, c))
		got, err = h.s.GetClient(h.ctx, "legacy")
		require.NoError(t, err)
		assert.True(t, got.VerifySecret("new"))
	})
}
