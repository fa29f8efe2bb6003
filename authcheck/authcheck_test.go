package authcheck

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/internal/passhash"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

func TestStatic(t *testing.T) {
	var s Static
	require.NoError(t, s.Add("johndoe", "foobar42", "u1"))
	ctx := context.Background()

	id, err := s.CheckAuth(ctx, "johndoe", "foobar42")
	require.NoError(t, err)
	assert.Equal(t, "u1", id)

	_, err = s.CheckAuth(ctx, "johndoe", "wrong")
	assert.ErrorIs(t, err, ErrInvalidCredentials)
	_, err = s.CheckAuth(ctx, "nobody", "foobar42")
	assert.ErrorIs(t, err, ErrInvalidCredentials)
	_, err = s.CheckAuth(ctx, "JohnDoe", "foobar42")
	assert.ErrorIs(t, err, ErrInvalidCredentials, "usernames are exact")
}

func TestStaticZeroValueIsEmpty(t *testing.T) {
	var s Static
	_, err := s.CheckAuth(context.Background(), "a", "b")
	assert.ErrorIs(t, err, ErrInvalidCredentials)
}

func TestStaticStoresOnlyHashes(t *testing.T) {
	var s Static
	require.NoError(t, s.Add("johndoe", "foobar42", "u1"))
	h := s.users["johndoe"].hash
	assert.NotContains(t, h, "foobar42")
	assert.Contains(t, h, "$argon2id$")
}

// An unknown user must cost the same hashing work as a wrong password: one
// verification with the same parameters.
func TestStaticUnknownUserCostsOneVerification(t *testing.T) {
	var s Static
	require.NoError(t, s.Add("johndoe", "foobar42", "u1"))
	var hashes []string
	orig := verify
	verify = func(ctx context.Context, h, pw string) (bool, error) {
		hashes = append(hashes, h)
		return orig(ctx, h, pw)
	}
	t.Cleanup(func() { verify = orig })

	_, _ = s.CheckAuth(context.Background(), "johndoe", "wrong")
	_, _ = s.CheckAuth(context.Background(), "nobody", "wrong")
	require.Len(t, hashes, 2)
	assert.Equal(t, params(t, hashes[0]), params(t, hashes[1]), "same cost parameters")
}

func params(t *testing.T, h string) string {
	t.Helper()
	var v, m, tm, p int
	_, err := fmt.Sscanf(h, "$argon2id$v=%d$m=%d,t=%d,p=%d$", &v, &m, &tm, &p)
	require.NoError(t, err)
	return fmt.Sprint(v, m, tm, p)
}

// With bcrypt users, an unknown user is verified against a bcrypt hash of
// a registered user's cost, not against an argon2id hash, which costs
// something else: timing does not tell which names exist.
func TestStaticUnknownUserCostsWhatARegisteredUserCosts(t *testing.T) {
	var s Static
	for _, name := range []string{"alice", "bob", "carol"} {
		h, err := bcrypt.GenerateFromPassword([]byte("pw-"+name), bcrypt.MinCost+1)
		require.NoError(t, err)
		require.NoError(t, s.AddHash(name, string(h), "u-"+name))
	}
	var hashes []string
	orig := verify
	verify = func(ctx context.Context, h, pw string) (bool, error) {
		hashes = append(hashes, h)
		return orig(ctx, h, pw)
	}
	t.Cleanup(func() { verify = orig })

	for _, name := range []string{"nobody", "mallory", "trudy", "pw-alice"} {
		hashes = hashes[:0]
		_, err := s.CheckAuth(context.Background(), name, "pw-alice")
		require.ErrorIs(t, err, ErrInvalidCredentials, "an unknown user, even with a registered user's password")
		require.Len(t, hashes, 1, "one verification")
		cost, err := bcrypt.Cost([]byte(hashes[0]))
		require.NoError(t, err, "a bcrypt hash, as the users have")
		assert.Equal(t, bcrypt.MinCost+1, cost)
	}
}

// A hash VerifyPassword could not read is refused when it is added, not
// at the user's first login.
func TestStaticRefusesUnreadableHashes(t *testing.T) {
	var s Static
	for _, h := range []string{"plaintext", "$argon2id$garbage", "$argon2id$v=19$m=0,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw", "$2b$10$short", "$2b$31$" + strings.Repeat("a", 53)} {
		assert.ErrorIs(t, s.AddHash("a", h, "ua"), passhash.ErrUnknownFormat, h)
	}
	_, err := s.CheckAuth(context.Background(), "a", "x")
	assert.ErrorIs(t, err, ErrInvalidCredentials, "nothing was added")
}

func TestStaticAcceptsBcrypt(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	var s Static
	require.NoError(t, s.AddHash("a", string(h), "ua"))
	id, err := s.CheckAuth(context.Background(), "a", "pw")
	require.NoError(t, err)
	assert.Equal(t, "ua", id)
	assert.Error(t, s.AddHash("b", "plaintext", "ub"), "a plaintext password is no hash")
}

func TestFuncAdapter(t *testing.T) {
	boom := errors.New("db down")
	var c AuthChecker = Func(func(_ context.Context, u, _ string) (string, error) {
		if u == "down" {
			return "", boom
		}
		return "id-" + u, nil
	})
	id, err := c.CheckAuth(context.Background(), "x", "y")
	require.NoError(t, err)
	assert.Equal(t, "id-x", id)
	_, err = c.CheckAuth(context.Background(), "down", "y")
	assert.ErrorIs(t, err, boom)
}

func TestHashAndVerifyPassword(t *testing.T) {
	h, err := HashPassword("s3cret")
	require.NoError(t, err)
	ok, err := VerifyPassword(h, "s3cret")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = VerifyPassword(h, "s3cret!")
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = VerifyPassword("not-a-hash", "x")
	assert.ErrorIs(t, err, passhash.ErrUnknownFormat)
}

// Static passes the request's ctx to the hash check, which gives up
// while waiting for its turn once the request has ended, for a
// registered user and an unknown one alike.
func TestStaticHonoursContext(t *testing.T) {
	var s Static
	require.NoError(t, s.Add("johndoe", "foobar42", "u1"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, name := range []string{"johndoe", "nobody"} {
		_, err := s.CheckAuth(ctx, name, "foobar42")
		assert.ErrorIs(t, err, context.Canceled, name)
	}
	var empty Static
	_, err := empty.CheckAuth(ctx, "nobody", "foobar42")
	assert.ErrorIs(t, err, context.Canceled)
}
