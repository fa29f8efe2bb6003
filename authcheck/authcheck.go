// Package authcheck is how the provider asks the app whether a username and
// password are right: the app implements [AuthChecker] over its own user
// database (the Go form of IAuthCheck in pyramid_oauth2_provider and of
// authenticate_handler in basic_oauth, the Python libraries this module
// grew from, which the docs call the Pyramid and the Flask seed).
package authcheck

import (
	"context"
	"errors"
	"hash/maphash"
	"sync"

	"github.com/oauth2provider/oauth2provider/internal/passhash"
)

// ErrInvalidCredentials is what a checker returns for an unknown user or a
// wrong password; the provider answers it with invalid_grant, counts it
// for throttling and never says which of the two it was (the provider's
// own ErrInvalidCredentials, returned instead, means the same). Any other
// error is a failure of the user database, answered with 503
// temporarily_unavailable and never with a token, and logged (see
// provider.Provider.LogOutage): it must not hold the password.
var ErrInvalidCredentials = errors.New("authcheck: invalid credentials")

// AuthChecker checks a resource owner's credentials (RFC 6749 §4.3.2).
//
// CheckAuth returns a stable user ID for valid credentials, or an error
// that wraps ErrInvalidCredentials for an unknown user or a wrong password.
// It should spend the same time on both (see [VerifyPasswordContext] and
// [DummyVerifyContext]), and give up alike when ctx ends.
// Implementations must be safe for concurrent use and should honour ctx.
type AuthChecker interface {
	// CheckAuth returns the user ID of username when password is theirs;
	// see AuthChecker.
	CheckAuth(ctx context.Context, username, password string) (userID string, err error)
}

// Func adapts a function to [AuthChecker].
type Func func(ctx context.Context, username, password string) (string, error)

// CheckAuth calls f.
func (f Func) CheckAuth(ctx context.Context, username, password string) (string, error) {
	return f(ctx, username, password)
}

// HashPassword returns an argon2id hash of password (PHC string form) for
// storing in a user table.
func HashPassword(password string) (string, error) {
	return passhash.Hash(password, passhash.Default)
}

// VerifyPassword reports whether password matches hash, an argon2id hash
// from [HashPassword] or a bcrypt hash. The comparison is constant-time.
// An unreadable hash is an error. bcrypt reads only a password's first 72
// bytes, so a bcrypt hash verifies every password that shares them, as it
// did for the application that made it.
func VerifyPassword(hash, password string) (bool, error) {
	return passhash.Verify(hash, password)
}

// VerifyPasswordContext is [VerifyPassword] for a request's ctx: when ctx
// ends before the check starts, or while it waits its turn (at most
// GOMAXPROCS argon2id checks run at once), it returns ctx's error without
// hashing, so a client that went away costs no hashing.
func VerifyPasswordContext(ctx context.Context, hash, password string) (bool, error) {
	return passhash.VerifyContext(ctx, hash, password)
}

// DummyVerify spends the time of one [VerifyPassword] against a fixed
// hash, whatever the request: prefer [DummyVerifyContext] in a checker,
// which gives up when the request ends as [VerifyPasswordContext] does.
func DummyVerify(password string) {
	_ = DummyVerifyContext(context.Background(), password)
}

// DummyVerifyContext spends the time of one [VerifyPasswordContext]
// against a fixed hash. Call it when the user is unknown so that case
// costs what a wrong password costs and timing does not tell which users
// exist; return its error as the registered user's check returns
// VerifyPasswordContext's: when ctx ends before the check starts, or
// while it waits its turn, it returns ctx's error without hashing, as
// that check does, so that a request ended under load (a server timeout)
// is answered alike for both (the provider's 503), not a wrong password
// for one and an outage for the other. It is nil once the hashing was
// done. The fixed hash is argon2id at [HashPassword]'s cost: when your
// stored hashes are bcrypt, or argon2id at another cost, it costs another
// time than a wrong password; verify an unknown user's password against a
// hash of your own table's algorithm and cost instead and ignore the
// answer, as [Static] does (see docs/user-database.md, "Timing").
func DummyVerifyContext(ctx context.Context, password string) error {
	// The fixed hash is readable: verify fails only for ctx.
	_, err := verify(ctx, passhash.Dummy(), password)
	return err
}

// verify is passhash.VerifyContext; tests replace it to count hash work.
var verify = passhash.VerifyContext

// Static is an in-memory user list (the Flask seed's credentials list) with
// passwords kept as argon2id hashes. The zero value is empty and ready to
// use; it is safe for concurrent use.
type Static struct {
	mu    sync.RWMutex
	users map[string]staticUser
	// hashes holds every user's hash, in the order the usernames were
	// first added; an unknown username is verified against one of them,
	// picked by the name's hash under seed (see CheckAuth).
	hashes []string
	seed   maphash.Seed
}

// errEmptyUserID refuses a user added to Static without an ID.
var errEmptyUserID = errors.New("authcheck: empty user ID")

type staticUser struct {
	id, hash string
	at       int // index in hashes
}

// Add registers a user with a plaintext password, hashed at once, and the
// user ID that CheckAuth returns for it, which must not be empty. Adding a
// username again replaces it.
func (s *Static) Add(username, password, userID string) error {
	if userID == "" {
		return errEmptyUserID
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.AddHash(username, h, userID)
}

// AddHash registers a user with a password hash from [HashPassword] (or
// bcrypt). A hash that [VerifyPassword] could not read, or whose cost it
// would refuse, is refused here, not at the user's first login, and so is
// an empty userID (with which CheckAuth would break the [AuthChecker]
// contract, and the provider answer every login of the user with a 503).
func (s *Static) AddHash(username, hash, userID string) error {
	if userID == "" {
		return errEmptyUserID
	}
	if err := passhash.Check(hash); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users == nil {
		s.users = make(map[string]staticUser)
		s.seed = maphash.MakeSeed()
	}
	u, ok := s.users[username]
	if !ok {
		u.at = len(s.hashes)
		s.hashes = append(s.hashes, "")
	}
	u.id, u.hash = userID, hash
	s.hashes[u.at] = hash
	s.users[username] = u
	return nil
}

// CheckAuth implements [AuthChecker]. An unknown user costs the same
// hashing work as a wrong password of a registered user: it is verified
// against the hash of a user picked by the name, with that user's
// algorithm and cost (which differ between argon2id and bcrypt, and
// between bcrypt costs), so that timing does not tell which names exist.
//
// It honours ctx while it waits for its turn to hash (see
// [VerifyPasswordContext]), returning ctx's error.
func (s *Static) CheckAuth(ctx context.Context, username, password string) (string, error) {
	s.mu.RLock()
	u, ok := s.users[username]
	decoy := ""
	if !ok && len(s.hashes) > 0 {
		decoy = s.hashes[maphash.String(s.seed, username)%uint64(len(s.hashes))]
	}
	s.mu.RUnlock()
	if !ok {
		if decoy == "" {
			decoy = passhash.Dummy()
		}
		// A decoy passed Check: verify fails only for a ctx that ended
		// before it hashed, and then judged nothing.
		if _, err := verify(ctx, decoy, password); err != nil {
			return "", err
		}
		return "", ErrInvalidCredentials // whatever verify said, the user is unknown
	}
	match, err := verify(ctx, u.hash, password)
	if err != nil {
		return "", err
	}
	if !match {
		return "", ErrInvalidCredentials
	}
	return u.id, nil
}
