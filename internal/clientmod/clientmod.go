// Package clientmod changes a stored client with a read-modify-write that
// loses no concurrent update: the write carries the revision the read
// returned (see storage.ClientStore.UpdateClient), and a conflict reads
// the client again. The provider's DisableClient and oauth2ctl's
// rotate-secret, enable and update change clients this way.
package clientmod

import (
	"context"
	"errors"

	"github.com/oauth2provider/oauth2provider/storage"
)

// Tries bounds the reads and updates of Modify: each failed one means
// that a concurrent write of the client committed in between, and there
// are few of those.
const Tries = 8

// Modify reads the client id from s, calls change on it and, when change
// reports a change, updates it with the revision it read. Should the
// client have changed in between (storage.ErrConflict), it reads it again
// and calls change again, up to Tries times; then it returns that
// ErrConflict. change returns false to write nothing (the client is
// already as wanted), or an error to stop, which Modify returns as is.
// Errors of the store (storage.ErrNotFound included) are returned as is.
func Modify(ctx context.Context, s storage.ClientStore, id string, change func(*storage.Client) (bool, error)) error {
	_, err := ModifyOutcome(ctx, s, id, change)
	return err
}

// ModifyOutcome is [Modify] that also reports whether its error is one
// of the store's UpdateClient (other than storage.ErrConflict): unlike a
// failed read, a failed write (a timeout, a dropped connection) may have
// been made all the same, which a caller whose change cannot simply be
// made again (a new secret nobody else was shown) must say.
func ModifyOutcome(ctx context.Context, s storage.ClientStore, id string, change func(*storage.Client) (bool, error)) (writeFailed bool, err error) {
	for range Tries {
		var c *storage.Client
		if c, err = s.GetClient(ctx, id); err != nil {
			return false, err
		}
		changed, cerr := change(c)
		if cerr != nil || !changed {
			return false, cerr
		}
		if err = s.UpdateClient(ctx, c); !errors.Is(err, storage.ErrConflict) {
			return err != nil, err
		}
	}
	return false, err
}
