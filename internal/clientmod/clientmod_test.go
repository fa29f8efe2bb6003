package clientmod

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// A change that reports nothing to do writes nothing: the client's
// revision stays, so a concurrent writer holding it is not sent into a
// needless conflict.
func TestModifyWritesNothingWhenUnchanged(t *testing.T) {
	ctx := context.Background()
	m := memory.New(memory.Config{})
	require.NoError(t, m.CreateClient(ctx, &storage.Client{ID: "app", Disabled: true}))
	calls := 0
	err := Modify(ctx, m, "app", func(c *storage.Client) (bool, error) {
		calls++
		if c.Disabled {
			return false, nil
		}
		c.Disabled = true
		return true, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
	c, err := m.GetClient(ctx, "app")
	require.NoError(t, err)
	assert.Equal(t, int64(1), c.Revision, "an unchanged client was written")
}
