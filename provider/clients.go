package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/oauth2provider/oauth2provider/internal/clientmod"
	"github.com/oauth2provider/oauth2provider/storage"
)

// DisableClient disables the client with the given ID and revokes every
// grant issued to it, so its tokens stop working at once (the Pyramid
// seed's revoked clients kept working). It returns how many grants it
// revoked; storage.ErrNotFound (wrapped) when there is no such client.
// The grants revoked are those of the client as the store returns it, so
// id may be any spelling of its ID the client store finds it by.
// It drops the client from this provider's client cache
// (Config.ClientCacheTTL); other instances' caches cannot serve the
// revoked grants. A client stored with a SecretHash no store accepts any
// more ([storage.ErrInvalidSecretHash]: the secret itself, say, kept from
// an earlier release) gets, with the disable, one that verifies no secret
// either (see neutralizeSecretHash), rather than staying enabled. One
// race remains: a password or client credentials grant that read the
// client just before it was disabled may store its grant just after the
// revocation, and that grant's access token works until it expires.
// Calling [storage.TokenStore.RevokeClient] again once requests in flight
// have ended (after the server's longest request time) ends those too.
//
// It updates the client with the revision it read (see
// storage.ClientStore.UpdateClient), so a concurrent update of the client
// (a secret rotation that read it before) cannot re-enable it, nor can
// DisableClient undo that update. Should the client change between its
// read and its update, it reads it again and retries, up to a few times;
// then it returns storage.ErrConflict (wrapped) and revokes nothing.
func (p *Provider) DisableClient(ctx context.Context, id string) (int, error) {
	stored, err := p.disableClient(ctx, id)
	if p.clients != nil {
		// The cache keys a client by its stored ID. Dropped once the
		// client is disabled (or its update failed): a request that read
		// it before cannot cache it again.
		p.clients.drop(stored)
	}
	if err != nil {
		return 0, fmt.Errorf("provider: disable client: %w", err)
	}
	// The grants carry the ID of the client as stored, which a store
	// that finds one client by several spellings (a case-insensitive
	// collation) need not have been asked with.
	n, err := p.cfg.Tokens.RevokeClient(ctx, stored)
	if err != nil {
		return n, fmt.Errorf("provider: revoke client's grants: %w", err)
	}
	return n, nil
}

// disableClient sets Disabled on the stored client, unless it is set
// already, with a compare-and-set on its revision, read again after each
// conflict (clientmod.Modify). It returns the stored client's ID: id when
// the store found none, or answered a client without an ID.
func (p *Provider) disableClient(ctx context.Context, id string) (string, error) {
	stored := id
	err := clientmod.Modify(ctx, p.cfg.Clients, id, func(c *storage.Client) (bool, error) {
		if c.ID != "" {
			stored = c.ID
		}
		if c.Disabled {
			return false, nil
		}
		c.Disabled = true
		return true, neutralizeSecretHash(c)
	})
	return stored, err
}

// neutralizeSecretHash replaces a SecretHash that [storage.Client.Validate]
// refuses, which a store may hold from before stores refused it, by one it
// accepts and that verifies no secret either, so that the update of a
// disable is not refused: a public client's by none, a confidential
// client's by the hash of a new random secret nobody is shown. The old
// one verified no secret (an unreadable form never does, and a public
// client's is never checked), so no secret stops or starts working, and
// the secret that may have been stored in the clear is gone.
func neutralizeSecretHash(c *storage.Client) error {
	if !errors.Is(c.Validate(), storage.ErrInvalidSecretHash) {
		return nil
	}
	if c.Public {
		c.SecretHash = ""
		return nil
	}
	_, hash, err := storage.NewClientSecret()
	if err != nil {
		return err
	}
	c.SecretHash = hash
	return nil
}
