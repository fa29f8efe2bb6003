package provider

import (
	"context"
	"fmt"
)

// DisableClient disables the client with the given ID and revokes every
// grant issued to it, so its tokens stop working at once (the Pyramid
// seed's revoked clients kept working). It returns how many grants it
// revoked; storage.ErrNotFound (wrapped) when there is no such client.
// It drops the client from this provider's client cache
// (Config.ClientCacheTTL); other instances' caches cannot serve the
// revoked grants.
func (p *Provider) DisableClient(ctx context.Context, id string) (int, error) {
	if p.clients != nil {
		defer p.clients.drop(id)
	}
	c, err := p.cfg.Clients.GetClient(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("provider: disable client: %w", err)
	}
	if !c.Disabled {
		c.Disabled = true
		if err := p.cfg.Clients.UpdateClient(ctx, c); err != nil {
			return 0, fmt.Errorf("provider: disable client: %w", err)
		}
	}
	n, err := p.cfg.Tokens.RevokeClient(ctx, id)
	if err != nil {
		return n, fmt.Errorf("provider: revoke client's grants: %w", err)
	}
	return n, nil
}
