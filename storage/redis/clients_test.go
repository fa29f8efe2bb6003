package redis

import (
	"context"
	"errors"
	"strings"
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
	c := &storage.Client{ID: "web", GrantTypes: []string{"authorization_code"}}
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
		c := &storage.Client{ID: "web", GrantTypes: []string{"authorization_code"}}
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

// setNXErrHook answers every SET NX with err, without sending it.
type setNXErrHook struct{ err error }

func (setNXErrHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (e setNXErrHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		name := strings.ToLower(cmd.Name())
		if name == "setnx" || (name == "set" && len(cmd.Args()) > 3 && strings.EqualFold(cmd.Args()[3].(string), "nx")) {
			cmd.SetErr(e.err)
			return e.err
		}
		return next(ctx, cmd)
	}
}

func (setNXErrHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// A SET NX that Redis refuses (here as when it is out of memory) fails
// the creation with that error: it is not read as a taken ID.
func TestCreateClientReportsAFailedSetNX(t *testing.T) {
	oom := errors.New("OOM command not allowed when used memory > 'maxmemory'")
	h := newHookedHarness(t, setNXErrHook{err: oom})
	err := h.s.CreateClient(h.ctx, &storage.Client{ID: "web"})
	require.Error(t, err)
	assert.NotErrorIs(t, err, storage.ErrAlreadyExists)
	assert.ErrorIs(t, err, oom)
}
