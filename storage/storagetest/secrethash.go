package storagetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/oauth2provider/oauth2provider/storage"
)

// secretHashClauses check that a client store holds a client only with a
// SecretHash storage.Client.Validate accepts: in a stored form
// storage.VerifySecret reads, or empty on a public client.
var secretHashClauses = []clause{
	{"CreateRefusesUnreadableSecretHash", testSecretHashCreateRefused},
	{"UpdateRefusesUnreadableSecretHash", testSecretHashUpdateRefused},
	{"EveryReadableFormIsAccepted", testSecretHashAccepted},
}

// badSecretHash is a client a store must refuse, and why.
type badSecretHash struct {
	name string
	hash string
	// public marks a public client; else a confidential one.
	public bool
}

// badSecretHashes returns the clients of no readable SecretHash: the
// mistakes that made a client fail every authentication with nothing but
// invalid_client to show for it, or stored a secret in the clear.
func badSecretHashes(t *testing.T) []badSecretHash {
	t.Helper()
	secret, hash, err := storage.NewClientSecret()
	require.NoError(t, err)
	chosen, err := storage.HashSecret("a-chosen-secret-of-the-suite")
	require.NoError(t, err)
	hexOnly := strings.TrimPrefix(hash, "sha256$")
	return []badSecretHash{
		{name: "PlainSecret", hash: "plain-secret-stored-as-is"},
		{name: "GeneratedSecretInsteadOfItsHash", hash: secret}, // NewClientSecret's results swapped
		{name: "EmptyOnConfidential", hash: ""},
		{name: "Garbage", hash: "garbage-not-a-hash-at-all"},
		{name: "SHA256WithoutPrefix", hash: hexOnly},
		{name: "SHA256Truncated", hash: hash[:len(hash)-2]},
		{name: "SHA256NotHex", hash: "sha256$" + strings.Repeat("zq", 32)},
		{name: "UnknownAlgorithm", hash: "md5$" + hexOnly[:32]},
		{name: "Argon2idWithoutKey", hash: chosen[:strings.LastIndex(chosen, "$")]},
		{name: "BcryptCostTooHigh", hash: "$2b$31$" + strings.Repeat("a", 53)},
		{name: "InvalidUTF8", hash: "sha256$\xff" + hexOnly[1:]},
		{name: "PublicWithPlainSecret", hash: "plain-secret-of-a-public-client", public: true},
		{name: "PublicWithGarbage", hash: "sha256$" + strings.Repeat("zq", 32), public: true},
	}
}

// clientWith returns fullClient(id) with the given SecretHash, public or
// confidential.
func (e *env) clientWith(id, hash string, public bool) *storage.Client {
	c := e.fullClient(id)
	c.SecretHash = hash
	c.Public = public
	if public {
		c.GrantTypes = []string{storage.GrantAuthorizationCode, storage.GrantRefreshToken}
	}
	return c
}

// assertRefusedSecretHash checks that err is the refusal of hash: it
// wraps storage.ErrInvalidSecretHash and its text does not contain the
// hash, which may be a secret in the clear.
func assertRefusedSecretHash(t *testing.T, err error, hash, what string) {
	t.Helper()
	require.ErrorIs(t, err, storage.ErrInvalidSecretHash, what)
	if hash != "" {
		assert.NotContains(t, err.Error(), hash, "%s: the error shows the SecretHash, maybe a plain secret", what)
	}
}

// testSecretHashCreateRefused checks that CreateClient refuses a client
// whose SecretHash is no readable stored form, and stores nothing.
func testSecretHashCreateRefused(t *testing.T, e *env) {
	for i, bad := range badSecretHashes(t) {
		id := fmt.Sprintf("bad-%d", i)
		c := e.clientWith(id, bad.hash, bad.public)
		err := e.b.Clients.CreateClient(e.ctx, c)
		assertRefusedSecretHash(t, err, bad.hash, "CreateClient: "+bad.name)
		assert.Zero(t, c.Revision, "%s: a refused create sets no revision", bad.name)
		_, err = e.b.Clients.GetClient(e.ctx, id)
		assert.ErrorIs(t, err, storage.ErrNotFound, "%s: nothing stored", bad.name)
	}
	list, err := e.b.Clients.ListClients(e.ctx)
	require.NoError(t, err)
	assert.Empty(t, list)
	// A client without an ID is still that, whatever its SecretHash.
	assert.ErrorIs(t, e.b.Clients.CreateClient(e.ctx, e.clientWith("", "plain-secret", false)), storage.ErrNoClientID)
}

// testSecretHashUpdateRefused checks that UpdateClient refuses a client
// whose SecretHash is no readable stored form, at any revision, and
// changes nothing; for a client that does not exist too (the client is
// judged before it is looked for), without creating it.
func testSecretHashUpdateRefused(t *testing.T, e *env) {
	stored := e.fullClient("stored")
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, stored))
	for _, bad := range badSecretHashes(t) {
		for _, rev := range []int64{0, 1} {
			c := e.clientWith("stored", bad.hash, bad.public)
			c.Revision = rev
			err := e.b.Clients.UpdateClient(e.ctx, c)
			assertRefusedSecretHash(t, err, bad.hash, fmt.Sprintf("UpdateClient at revision %d: %s", rev, bad.name))
			assert.Equal(t, rev, c.Revision, "%s: a refused update leaves the caller's revision", bad.name)
		}
		got, err := e.b.Clients.GetClient(e.ctx, "stored")
		require.NoError(t, err)
		assertClient(t, stored, got)
		assert.Equal(t, int64(1), got.Revision, "%s: a refused update is not counted", bad.name)
		assert.True(t, got.VerifySecret("secret-of-stored"), "%s: the old secret still works", bad.name)

		ghost := e.clientWith("ghost", bad.hash, bad.public)
		assertRefusedSecretHash(t, e.b.Clients.UpdateClient(e.ctx, ghost), bad.hash, "UpdateClient of no client: "+bad.name)
		_, err = e.b.Clients.GetClient(e.ctx, "ghost")
		assert.ErrorIs(t, err, storage.ErrNotFound, "update does not create")
	}
	assert.ErrorIs(t, e.b.Clients.UpdateClient(e.ctx, e.clientWith("", "plain-secret", false)), storage.ErrNoClientID)
}

// testSecretHashAccepted checks that every stored form the library reads
// is accepted by CreateClient and UpdateClient, and verifies once read
// back: a generated secret's SHA-256 (its hex in either case), argon2id
// and bcrypt; and a public client without a SecretHash.
func testSecretHashAccepted(t *testing.T, e *env) {
	generated, generatedHash, err := storage.NewClientSecret()
	require.NoError(t, err)
	chosenHash, err := storage.HashSecret("a-chosen-secret")
	require.NoError(t, err)
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte("a-bcrypt-secret"), bcrypt.MinCost)
	require.NoError(t, err)
	forms := []struct {
		name, hash, secret string
	}{
		{"Generated", generatedHash, generated},
		{"GeneratedUpperCaseHex", "sha256$" + strings.ToUpper(strings.TrimPrefix(generatedHash, "sha256$")), generated},
		{"HashGeneratedSecret", storage.HashGeneratedSecret("another-generated"), "another-generated"},
		{"Argon2id", chosenHash, "a-chosen-secret"},
		{"Bcrypt", string(bcryptHash), "a-bcrypt-secret"},
	}
	for i, f := range forms {
		id := fmt.Sprintf("ok-%d", i)
		require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.clientWith(id, f.hash, false)), "CreateClient: %s", f.name)
		got, err := e.b.Clients.GetClient(e.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, f.hash, got.SecretHash, f.name)
		assert.True(t, got.VerifySecret(f.secret), "%s: verifies once stored", f.name)

		// Every form replaces every other one (a rotation).
		next := forms[(i+1)%len(forms)]
		got.SecretHash = next.hash
		require.NoError(t, e.b.Clients.UpdateClient(e.ctx, got), "UpdateClient: %s to %s", f.name, next.name)
		got, err = e.b.Clients.GetClient(e.ctx, id)
		require.NoError(t, err)
		assert.True(t, got.VerifySecret(next.secret), "%s: verifies once updated", next.name)
	}
	// A public client has no SecretHash, and a confidential client may
	// become public by dropping its hash. A public client's hash is never
	// verified; one in a readable form is kept, as before.
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.clientWith("public", "", true)))
	require.NoError(t, e.b.Clients.CreateClient(e.ctx, e.clientWith("public-with-hash", generatedHash, true)))
	got, err := e.b.Clients.GetClient(e.ctx, "ok-0")
	require.NoError(t, err)
	got.Public, got.SecretHash = true, ""
	got.GrantTypes = []string{storage.GrantAuthorizationCode}
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, got), "confidential to public")
	got.Public, got.SecretHash = false, generatedHash
	require.NoError(t, e.b.Clients.UpdateClient(e.ctx, got), "public to confidential")
}
