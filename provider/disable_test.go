package provider_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// racingClients is a client store whose UpdateClient first runs a
// competing write, through the store itself, as another process whose
// write lands between the caller's read and its update would: on the
// first call only, or on every call when always is set.
type racingClients struct {
	storage.ClientStore
	compete func(ctx context.Context, s storage.ClientStore) error
	always  bool
	updates atomic.Int64
}

func (r *racingClients) UpdateClient(ctx context.Context, c *storage.Client) error {
	if r.updates.Add(1) == 1 || r.always {
		if err := r.compete(ctx, r.ClientStore); err != nil {
			return err
		}
	}
	return r.ClientStore.UpdateClient(ctx, c)
}

// rotateTo is a competing secret rotation of client "conf" to secret, a
// read-modify-write with the revision it read.
func rotateTo(secret string) func(ctx context.Context, s storage.ClientStore) error {
	return func(ctx context.Context, s storage.ClientStore) error {
		c, err := s.GetClient(ctx, "conf")
		if err != nil {
			return err
		}
		c.SecretHash = storage.HashGeneratedSecret(secret)
		return s.UpdateClient(ctx, c)
	}
}

// racingEnv is an env whose client store is a racingClients running
// compete.
func racingEnv(t *testing.T, compete func(ctx context.Context, s storage.ClientStore) error) (*env, *racingClients) {
	t.Helper()
	rc := &racingClients{compete: compete}
	e := newEnv(t, func(c *provider.Config) {
		rc.ClientStore = c.Clients
		c.Clients = rc
	})
	return e, rc
}

// A rotation that writes between DisableClient's read and its update is
// neither undone by the disable (its secret stays) nor undoes it: the
// disable reads the client again and disables the rotated one.
func TestDisableClient_RacingRotationLandsAndClientStaysDisabled(t *testing.T) {
	e, rc := racingEnv(t, rotateTo("rotated"))
	rt := e.issue(t)["refresh_token"].(string)

	n, err := e.p.DisableClient(context.Background(), "conf")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "its grant is revoked")
	assert.EqualValues(t, 2, rc.updates.Load(), "one conflict, one retry")

	c, err := e.store.GetClient(context.Background(), "conf")
	require.NoError(t, err)
	assert.True(t, c.Disabled, "disabled")
	assert.True(t, c.VerifySecret("rotated"), "the rotation landed")
	assert.Equal(t, int64(3), c.Revision, "created, rotated, disabled")
	assertError(t, e.do(req{form: refresh(rt), basic: []string{"conf", "rotated"}}), http.StatusUnauthorized, "invalid_client")
}

// A concurrent disable that lands first leaves nothing to write: the
// client read again is disabled, and DisableClient goes on to revoke.
func TestDisableClient_RacingDisableStillRevokes(t *testing.T) {
	e, rc := racingEnv(t, func(ctx context.Context, s storage.ClientStore) error {
		c, err := s.GetClient(ctx, "conf")
		if err != nil {
			return err
		}
		c.Disabled = true
		return s.UpdateClient(ctx, c)
	})
	rt := e.issue(t)["refresh_token"].(string)

	n, err := e.p.DisableClient(context.Background(), "conf")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "its grant is revoked")
	assert.EqualValues(t, 1, rc.updates.Load(), "no second write")
	c, err := e.store.GetClient(context.Background(), "conf")
	require.NoError(t, err)
	assert.True(t, c.Disabled)
	assert.Equal(t, int64(2), c.Revision)
	assertError(t, e.do(req{form: refresh(rt), basic: conf}), http.StatusUnauthorized, "invalid_client")
}

// A client that changes before every update is given up on after a few
// tries, with ErrConflict, and its grants are left for the caller to
// retry.
func TestDisableClient_GivesUpAfterRepeatedConflicts(t *testing.T) {
	e, rc := racingEnv(t, rotateTo("rotated"))
	rc.always = true
	e.issue(t)

	n, err := e.p.DisableClient(context.Background(), "conf")
	require.ErrorIs(t, err, storage.ErrConflict)
	assert.Zero(t, n)
	assert.EqualValues(t, 8, rc.updates.Load(), "bounded tries")
	c, err := e.store.GetClient(context.Background(), "conf")
	require.NoError(t, err)
	assert.False(t, c.Disabled)
}

// partlyRevoking is a token store whose RevokeClient fails after it has
// revoked the client's grants, as a store that loses the connection
// midway may.
type partlyRevoking struct{ storage.TokenStore }

func (s partlyRevoking) RevokeClient(ctx context.Context, id string) (int, error) {
	n, err := s.TokenStore.RevokeClient(ctx, id)
	if err != nil {
		return n, err
	}
	return n, errors.New("connection reset")
}

// A revocation that fails after revoking some grants returns its error
// with the count of those it revoked, not zero.
func TestDisableClient_FailedRevocationTellsHowManyItRevoked(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.Tokens = partlyRevoking{c.Tokens} })
	e.issue(t)
	e.issue(t)
	n, err := e.p.DisableClient(context.Background(), "conf")
	require.ErrorContains(t, err, "connection reset")
	assert.Equal(t, 2, n)
}

// On a client store that finds a client by several spellings of its ID
// (foldingClients, a case-insensitive collation), DisableClient called
// with another spelling than the stored one revokes the grants issued
// to the client, which carry the stored ID, and drops the client cached
// under that ID: neither its access token nor its refresh token, nor
// the cached client, works after it.
func TestDisableClient_AnotherSpellingOfTheID(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) {
		c.Clients = foldingClients{c.Tokens.(*testStore)}
		c.ClientCacheTTL = time.Hour
	})
	first := e.issue(t)
	// A refresh caches the client under its stored ID.
	second := assertToken(t, e.do(req{form: refresh(first["refresh_token"].(string)), basic: conf}))

	n, err := e.p.DisableClient(context.Background(), " CONF")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "grants revoked")
	_, err = e.validate(second["access_token"].(string))
	assert.ErrorIs(t, err, provider.ErrInvalidToken)
	rec := e.do(req{form: refresh(second["refresh_token"].(string)), basic: conf})
	assertError(t, rec, http.StatusUnauthorized, "invalid_client")
}

// legacyHashClients is a client store whose GetClient returns client id
// with hash as its SecretHash once legacy is set, as a store that held
// the client since before stores refused such a hash returns it.
type legacyHashClients struct {
	storage.ClientStore
	id, hash string
	legacy   atomic.Bool
}

func (l *legacyHashClients) GetClient(ctx context.Context, id string) (*storage.Client, error) {
	c, err := l.ClientStore.GetClient(ctx, id)
	if err == nil && id == l.id && l.legacy.Load() {
		c.SecretHash = l.hash
	}
	return c, err
}

// A client stored with a SecretHash no store accepts any more (the secret
// itself, kept since an earlier release) can still be disabled, and its
// tokens revoked: the disable writes a hash that verifies no secret, as
// the old one did none (a public client's: no hash), rather than failing
// with storage.ErrInvalidSecretHash and revoking nothing.
func TestDisableClient_StoredUnreadableSecretHash(t *testing.T) {
	for _, tc := range []struct {
		name, id string
		public   bool
	}{
		{"confidential", "conf", false},
		{"public", "pub", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lc := &legacyHashClients{id: tc.id, hash: "plain-secret-kept-as-is"}
			e := newEnv(t, func(c *provider.Config) {
				lc.ClientStore = c.Clients
				c.Clients = lc
			})
			ctx := context.Background()
			gid, err := token.NewGrantID()
			require.NoError(t, err)
			_, ref, err := token.New(storage.KindAccess, gid)
			require.NoError(t, err)
			now := time.Now()
			require.NoError(t, e.store.CreateGrant(ctx, &storage.Grant{
				ID: gid, ClientID: tc.id, UserID: "user-1", CreatedAt: now, ExpiresAt: now.Add(time.Hour),
			}, storage.Token{Hash: ref.Hash, Kind: storage.KindAccess, GrantID: gid, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}))
			lc.legacy.Store(true)

			n, err := e.p.DisableClient(ctx, tc.id)
			require.NoError(t, err)
			assert.Equal(t, 1, n, "its grant is revoked")
			lc.legacy.Store(false)
			c, err := e.store.GetClient(ctx, tc.id)
			require.NoError(t, err)
			assert.True(t, c.Disabled)
			assert.Equal(t, tc.public, c.Public)
			require.NoError(t, c.Validate())
			assert.False(t, c.VerifySecret("plain-secret-kept-as-is"))
			if tc.public {
				assert.Empty(t, c.SecretHash)
			}
		})
	}
}
