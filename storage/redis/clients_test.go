package redis

import (
	"context"
	"strings"
	"testing"

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
