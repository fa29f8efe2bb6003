package authcheck_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/oauth2provider/oauth2provider/authcheck"
)

// ExampleStatic keeps a fixed list of users in memory, the Flask seed's
// credentials list: fine for a demo or an admin account, not for real users.
func ExampleStatic() {
	var users authcheck.Static
	if err := users.Add("johndoe", "foobar42", "user-1"); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	id, err := users.CheckAuth(ctx, "johndoe", "foobar42")
	fmt.Println(id, err)

	_, err = users.CheckAuth(ctx, "johndoe", "wrong")
	fmt.Println(errors.Is(err, authcheck.ErrInvalidCredentials))
	_, err = users.CheckAuth(ctx, "nobody", "foobar42")
	fmt.Println(errors.Is(err, authcheck.ErrInvalidCredentials))
	// Output:
	// user-1 <nil>
	// true
	// true
}

// ExampleHashPassword hashes a password at sign-up (argon2id) and checks it
// at login.
func ExampleHashPassword() {
	// At sign-up: store hash in your users table, never the password.
	hash, err := authcheck.HashPassword("correct horse battery staple")
	if err != nil {
		log.Fatal(err)
	}

	// At login: compare in constant time.
	ok, err := authcheck.VerifyPassword(hash, "correct horse battery staple")
	fmt.Println(strings.HasPrefix(hash, "$argon2id$"), ok, err)
	ok, err = authcheck.VerifyPassword(hash, "Tr0ub4dor&3")
	fmt.Println(ok, err)
	// Output:
	// true true <nil>
	// false <nil>
}

// ExampleVerifyPassword_bcrypt checks a password against a bcrypt hash that
// an existing application stored: VerifyPassword reads bcrypt as well as
// argon2id, so a user table can move to argon2id one login at a time.
func ExampleVerifyPassword_bcrypt() {
	legacy, err := bcrypt.GenerateFromPassword([]byte("foobar42"), bcrypt.MinCost)
	if err != nil {
		log.Fatal(err)
	}
	ok, err := authcheck.VerifyPassword(string(legacy), "foobar42")
	fmt.Println(ok, err)
	// Output: true <nil>
}

// A user record as an application's database returns it.
type user struct {
	ID           string
	PasswordHash string // argon2id from authcheck.HashPassword, or bcrypt
}

// errNoSuchUser is what the application's lookup returns for an unknown
// username.
var errNoSuchUser = errors.New("no such user")

// checkUser is the whole AuthChecker for a user table: look the user up,
// verify the hash, and spend the same time on an unknown user as on a wrong
// password. Any other error is an outage of the database: return it as it
// is and the provider answers 503.
func checkUser(ctx context.Context, lookup func(context.Context, string) (user, error), username, password string) (string, error) {
	u, err := lookup(ctx, username)
	if errors.Is(err, errNoSuchUser) {
		// As slow as a wrong password, and giving up as its check does
		// when the request ends (a 503 for both, not a wrong password for
		// one and an outage for the other).
		if err := authcheck.DummyVerifyContext(ctx, password); err != nil {
			return "", err
		}
		return "", authcheck.ErrInvalidCredentials
	}
	if err != nil {
		return "", fmt.Errorf("users: look up: %w", err) // no password in the message
	}
	ok, err := authcheck.VerifyPasswordContext(ctx, u.PasswordHash, password)
	if err != nil {
		return "", fmt.Errorf("users: verify %s: %w", u.ID, err)
	}
	if !ok {
		return "", authcheck.ErrInvalidCredentials
	}
	return u.ID, nil
}

// newUsers is the AuthChecker over the application's user lookup:
// checkUser as a function of the username and password alone.
func newUsers(lookup func(context.Context, string) (user, error)) authcheck.AuthChecker {
	return authcheck.Func(func(ctx context.Context, username, password string) (string, error) {
		return checkUser(ctx, lookup, username, password)
	})
}

// ExampleFunc turns a function over the application's own user lookup into
// an AuthChecker.
func ExampleFunc() {
	hash, err := authcheck.HashPassword("foobar42")
	if err != nil {
		log.Fatal(err)
	}
	table := map[string]user{"johndoe": {ID: "42", PasswordHash: hash}}
	lookup := func(_ context.Context, username string) (user, error) {
		u, ok := table[username]
		if !ok {
			return user{}, errNoSuchUser
		}
		return u, nil
	}

	users := newUsers(lookup)

	id, err := users.CheckAuth(context.Background(), "johndoe", "foobar42")
	fmt.Println(id, err)
	_, err = users.CheckAuth(context.Background(), "janedoe", "foobar42")
	fmt.Println(err)
	// Output:
	// 42 <nil>
	// authcheck: invalid credentials
}

// bcryptUsers checks passwords of a user table that keeps bcrypt hashes
// only. DummyVerifyContext spends the time of an argon2id check, which is not what
// a bcrypt check costs, so an unknown user is compared against a bcrypt
// hash of the table's own cost instead.
type bcryptUsers struct {
	hashes map[string][]byte // username -> bcrypt hash; the user ID is the username here
	dummy  []byte            // bcrypt hash of a random password, same cost as the table
}

func newBcryptUsers(cost int) (*bcryptUsers, error) {
	dummy, err := bcrypt.GenerateFromPassword([]byte("not a password anyone has"), cost)
	if err != nil {
		return nil, err
	}
	return &bcryptUsers{hashes: make(map[string][]byte), dummy: dummy}, nil
}

// CheckAuth implements authcheck.AuthChecker.
func (b *bcryptUsers) CheckAuth(_ context.Context, username, password string) (string, error) {
	hash, ok := b.hashes[username]
	if !ok {
		_ = bcrypt.CompareHashAndPassword(b.dummy, []byte(password)) // same cost as a real check
		return "", authcheck.ErrInvalidCredentials
	}
	if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil {
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return "", authcheck.ErrInvalidCredentials
		}
		return "", err // a corrupt hash: a server error, not a wrong password
	}
	return username, nil
}

// Example_bcrypt checks users against bcrypt hashes with a same-cost dummy
// for unknown users.
func Example_bcrypt() {
	users, err := newBcryptUsers(bcrypt.MinCost) // use bcrypt.DefaultCost or more in production
	if err != nil {
		log.Fatal(err)
	}
	users.hashes["johndoe"], _ = bcrypt.GenerateFromPassword([]byte("foobar42"), bcrypt.MinCost)

	id, err := users.CheckAuth(context.Background(), "johndoe", "foobar42")
	fmt.Println(id, err)
	_, err = users.CheckAuth(context.Background(), "nobody", "foobar42")
	fmt.Println(errors.Is(err, authcheck.ErrInvalidCredentials))
	// Output:
	// johndoe <nil>
	// true
}

// Directory is the part of an LDAP client (or any service that checks
// passwords itself) that a delegating AuthChecker needs.
type Directory interface {
	// Bind authenticates as dn with password. It returns errBadCredentials
	// for a wrong password or an unknown dn.
	Bind(ctx context.Context, dn, password string) error
}

// errBadCredentials is the directory's "invalid credentials" (LDAP result
// code 49).
var errBadCredentials = errors.New("ldap: invalid credentials (49)")

// escapeDN escapes a value for use in an LDAP distinguished name
// (RFC 4514 §2.4), so a username cannot change the DN's structure.
func escapeDN(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case strings.ContainsRune(`,+"\<>;=`, r),
			r == '#' && i == 0,
			r == ' ' && (i == 0 || i == len(v)-1):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == 0:
			b.WriteString(`\00`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ldapChecker delegates the password check to a directory server.
func ldapChecker(dir Directory) authcheck.AuthChecker {
	return authcheck.Func(func(ctx context.Context, username, password string) (string, error) {
		// An LDAP simple bind with an empty password is an anonymous bind,
		// which succeeds: never let it through as a login.
		if username == "" || password == "" {
			return "", authcheck.ErrInvalidCredentials
		}
		dn := "uid=" + escapeDN(username) + ",ou=people,dc=example,dc=com"
		err := dir.Bind(ctx, dn, password)
		switch {
		case errors.Is(err, errBadCredentials):
			return "", authcheck.ErrInvalidCredentials
		case err != nil:
			return "", fmt.Errorf("ldap: bind: %w", err) // directory down: 503, not invalid_grant
		}
		return dn, nil // the DN is the stable user ID
	})
}

// fakeDirectory is a directory with one entry, for the example.
type fakeDirectory struct{}

func (fakeDirectory) Bind(_ context.Context, dn, password string) error {
	if dn == "uid=johndoe,ou=people,dc=example,dc=com" && password == "foobar42" {
		return nil
	}
	return errBadCredentials
}

// Example_ldap delegates the password check to a directory server (LDAP,
// Active Directory, another identity service): the provider never sees a
// hash.
func Example_ldap() {
	users := ldapChecker(fakeDirectory{})
	ctx := context.Background()

	id, err := users.CheckAuth(ctx, "johndoe", "foobar42")
	fmt.Println(id, err)
	_, err = users.CheckAuth(ctx, "johndoe", "")
	fmt.Println(errors.Is(err, authcheck.ErrInvalidCredentials))
	_, err = users.CheckAuth(ctx, "johndoe,ou=admins", "foobar42")
	fmt.Println(errors.Is(err, authcheck.ErrInvalidCredentials))
	fmt.Println(escapeDN("johndoe,ou=admins"))
	// Output:
	// uid=johndoe,ou=people,dc=example,dc=com <nil>
	// true
	// true
	// johndoe\,ou\=admins
}
