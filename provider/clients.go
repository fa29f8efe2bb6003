package provider

import (
	"context"
	"fmt"

	"github.com/oauth2provider/oauth2provider/internal/clientmod"
	"github.com/oauth2provider/oauth2provider/storage"
)

// DisableClient disables the client with the given ID and revokes every
// grant issued to it, so its tokens stop working at once (the Pyramid
// seed's revoked clients kept working). It returns how many grants it
// revoked; storage.ErrNotFound (wrapped) when there is no such client.
// It drops the client from this provider's client cache
// (Config.ClientCacheTTL); other instances' caches cannot serve the
// revoked grants. One race remains: a password or client credentials
// grant that read the client just before it was disabled may store its
// grant just after the revocation, and that grant's access token works
// until it expires. Calling [storage.TokenStore.RevokeClient] again once
// requests in flight have ended (after the server's longest request
// time) ends those too.
//
// It updates the client with the revision it read (see
// storage.ClientStore.UpdateClient), so a concurrent update of the client
// (a secret rotation that read it before) cannot re-enable it, nor can
// DisableClient undo that update. Should the client change between its
// read and its update, it reads it again and retries, up to a few times;
// then it returns storage.ErrConflict (wrapped) and revokes nothing.
func (p *Provider) DisableClient(ctx context.Context, id string) (int, error) {
	if p.clients != nil {
		defer p.clients.drop(id)
	}
	if err := p.disableClient(ctx, id); err != nil {
		return 0, fmt.Errorf("provider: disable client: %w", err)
	}
	n, err := p.cfg.Tokens.RevokeClient(ctx, id)
	if err != nil {
		return n, fmt.Errorf("provider: revoke client's grants: %w", err)
	}
	return n, nil
}

// disableClient sets Disabled on the stored client, unless it is set
// already, with a compare-and-set on its revision, read again after each
// conflict (clientmod.Modify).
func (p *Provider) disableClient(ctx context.Context, id string) error {
	return clientmod.Modify(ctx, p.cfg.Clients, id, func(c *storage.Client) (bool, error) {
		if c.Disabled {
			return false, nil
		}
		c.Disabled = true
		return true, nil
	})
}
