package authcheck

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

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

// A user added without an ID is refused when it is added: CheckAuth
// would return "" and no error for the right password, which breaks the
// AuthChecker contract and which the provider answers with a 503 at every
// login of that user.
func TestStaticRefusesAnEmptyUserID(t *testing.T) {
	var s Static
	assert.Error(t, s.Add("a", "pw", ""))
	h, err := HashPassword("pw")
	require.NoError(t, err)
	assert.Error(t, s.AddHash("a", h, ""))
	_, err = s.CheckAuth(context.Background(), "a", "pw")
	assert.ErrorIs(t, err, ErrInvalidCredentials, "nothing was added")

	// Nor does it replace a user that has an ID.
	require.NoError(t, s.AddHash("b", h, "ub"))
	assert.Error(t, s.AddHash("b", h, ""))
	id, err := s.CheckAuth(context.Background(), "b", "pw")
	require.NoError(t, err)
	assert.Equal(t, "ub", id)
}

// The error of a hash VerifyPassword cannot read is the one a user
// database's checker logs (with a 503 for the user): it names what can
// be read and what else makes a hash unreadable, and no package that
// the app cannot see.
func TestUnreadableHashErrorSaysWhatIsRead(t *testing.T) {
	cost17 := "$2b$17$" + strings.Repeat("a", 53)
	for _, h := range []string{"pbkdf2_sha256$600000$salt$key", "$argon2i$v=19$m=65536,t=4,p=1$c2FsdA$a2V5", cost17} {
		_, err := VerifyPassword(h, "pw")
		require.Error(t, err, h)
		msg := err.Error()
		assert.True(t, strings.HasPrefix(msg, "authcheck: "), msg)
		assert.Contains(t, msg, "argon2id or bcrypt", h)
		assert.Contains(t, msg, "cost", h)
	}
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

// countVerify replaces verify for the test, recording the hashes it is
// called with.
func countVerify(t *testing.T) *[]string {
	t.Helper()
	var hashes []string
	orig := verify
	verify = func(ctx context.Context, h, pw string) (bool, error) {
		hashes = append(hashes, h)
		return orig(ctx, h, pw)
	}
	t.Cleanup(func() { verify = orig })
	return &hashes
}

func bcryptHash(t *testing.T, pw string, cost int) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	require.NoError(t, err)
	return string(h)
}

// Adding a username again replaces its password and ID, and its old hash
// is no longer an unknown user's decoy: only the hashes of the users
// there are set the cost of an unknown name.
func TestStaticReplacesAUser(t *testing.T) {
	var s Static
	require.NoError(t, s.AddHash("a", bcryptHash(t, "old", bcrypt.MinCost), "u-old"))
	newHash := bcryptHash(t, "new", bcrypt.MinCost+1)
	require.NoError(t, s.AddHash("a", newHash, "u-new"))

	id, err := s.CheckAuth(context.Background(), "a", "new")
	require.NoError(t, err)
	assert.Equal(t, "u-new", id)
	_, err = s.CheckAuth(context.Background(), "a", "old")
	assert.ErrorIs(t, err, ErrInvalidCredentials)

	hashes := countVerify(t)
	for i := range 32 {
		_, err := s.CheckAuth(context.Background(), fmt.Sprint("nobody", i), "old")
		require.ErrorIs(t, err, ErrInvalidCredentials)
	}
	for _, h := range *hashes {
		require.Equal(t, newHash, h, "an unknown user verified against a replaced hash")
	}
}

// An unknown name is verified against the hash of a registered user
// picked by the name: the same one every time for a name, and across names
// every user's (so their costs), not always the first user's.
func TestStaticDecoyIsPickedByName(t *testing.T) {
	var s Static
	first, second := bcryptHash(t, "pw", bcrypt.MinCost), bcryptHash(t, "pw", bcrypt.MinCost+1)
	require.NoError(t, s.AddHash("first", first, "u1"))
	require.NoError(t, s.AddHash("second", second, "u2"))
	hashes := countVerify(t)
	used := map[string]bool{}
	for i := range 64 {
		name := fmt.Sprint("nobody", i)
		*hashes = (*hashes)[:0]
		_, _ = s.CheckAuth(context.Background(), name, "x")
		_, _ = s.CheckAuth(context.Background(), name, "y")
		require.Len(t, *hashes, 2)
		assert.Equal(t, (*hashes)[0], (*hashes)[1], "%s verified against two users' hashes", name)
		used[(*hashes)[0]] = true
	}
	assert.True(t, used[first] && used[second], "64 unknown names verified against %d of 2 users' hashes", len(used))
}

// DummyVerify does the hashing of one check against the Default hash.
func TestDummyVerify(t *testing.T) {
	hashes := countVerify(t)
	DummyVerify("x")
	assert.Equal(t, []string{passhash.Dummy()}, *hashes)
}

// DummyVerifyContext does the hashing of one check against the Default
// hash, and, as VerifyPasswordContext does for a registered user, gives
// up with ctx's error when the request ends while it waits for an
// argon2id slot, so that an unknown user's login is answered as a
// registered user's is (503 at the provider, not a wrong password).
func TestDummyVerifyContext(t *testing.T) {
	hashes := countVerify(t)
	require.NoError(t, DummyVerifyContext(context.Background(), "x"))
	assert.Equal(t, []string{passhash.Dummy()}, *hashes)

	h, err := HashPassword("pw")
	require.NoError(t, err)
	release := passhash.HoldSlots()
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, DummyVerifyContext(ctx, "x"), context.DeadlineExceeded)
	_, err = VerifyPasswordContext(ctx, h, "x")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "as a registered user's check")
}

// HashPassword uses passhash.Default: argon2id, 19 MiB, 2 passes, 1 lane.
func TestHashPasswordUsesDefault(t *testing.T) {
	h, err := HashPassword("pw")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
}

// VerifyPasswordContext returns ctx's error for a request that has ended.
func TestVerifyPasswordContext(t *testing.T) {
	h, err := HashPassword("pw")
	require.NoError(t, err)
	ok, err := VerifyPasswordContext(context.Background(), h, "pw")
	require.NoError(t, err)
	assert.True(t, ok)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ok, err = VerifyPasswordContext(ctx, h, "pw")
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, ok)
}

// Static is safe for concurrent use: users added while others log in
// (run with -race).
func TestStaticConcurrentUse(t *testing.T) {
	var s Static
	h := bcryptHash(t, "pw", bcrypt.MinCost)
	require.NoError(t, s.AddHash("first", h, "u0"))
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 5 {
				assert.NoError(t, s.AddHash(fmt.Sprint("user", i, j), h, "u"))
				_, err := s.CheckAuth(context.Background(), fmt.Sprint("nobody", i, j), "pw")
				assert.ErrorIs(t, err, ErrInvalidCredentials)
				id, err := s.CheckAuth(context.Background(), "first", "pw")
				assert.NoError(t, err)
				assert.Equal(t, "u0", id)
			}
		})
	}
	wg.Wait()
}
