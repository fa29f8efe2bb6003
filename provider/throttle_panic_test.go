package provider_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
)

// TestThrottlePanickingCheckerIsNotRefunded: a checker that panics after
// judging a password (here on every wrong one, as an audit hook that is
// nil on the failure path would) must not get its attempt refunded: the
// client sees the panic (a dropped connection) and learns the password
// was wrong, so an unthrottled panic would be an unlimited guessing
// oracle, and a right password would then be found.
func TestThrottlePanickingCheckerIsNotRefunded(t *testing.T) {
	var audit map[string]int // nil: the failure path panics
	checker := authcheck.Func(func(ctx context.Context, username, password string) (string, error) {
		if username == "johndoe" && password == "foobar42" {
			return "user-1", nil
		}
		audit[username]++ // panics
		return "", authcheck.ErrInvalidCredentials
	})
	e := newEnv(t, func(c *provider.Config) { c.Users = checker })
	guess := func() (panicked bool) {
		defer func() { panicked = recover() != nil }()
		e.do(req{form: wrongPassword(), basic: conf})
		return false
	}
	for i := range provider.DefaultUserRate.Burst {
		if !guess() {
			t.Fatalf("guess %d did not reach the checker", i)
		}
	}
	assertThrottled(t, e.do(req{form: password(), basic: conf}), "60")
	assert.False(t, guess(), "a guess over the limit must be refused before the checker")
}

// TestThrottleEmptyUserIDIsNotRefunded: a checker that answers a wrong
// password with ("", nil), breaking the AuthChecker contract (a SQL
// lookup that found no row and returned the empty ID it scanned), makes
// each wrong password a 503 and each right one a token. Refunded as an
// outage, that 503 would be an unthrottled guessing oracle; it stays
// counted, so the guesses are throttled like wrong passwords.
func TestThrottleEmptyUserIDIsNotRefunded(t *testing.T) {
	checker := authcheck.Func(func(ctx context.Context, username, password string) (string, error) {
		if username == "johndoe" && password == "foobar42" {
			return "user-1", nil
		}
		return "", nil // no row: the contract says ErrInvalidCredentials
	})
	e := newEnv(t, func(c *provider.Config) { c.Users = checker })
	for range provider.DefaultUserRate.Burst {
		assertError(t, e.do(req{form: wrongPassword(), basic: conf}), 503, "temporarily_unavailable")
	}
	assertThrottled(t, e.do(req{form: password(), basic: conf}), "60")
}

// TestThrottleCheckerOutageIsRefunded: a checker that fails (its user
// database is down) judged nothing: the 503 is refunded, so that an
// outage longer than the budget does not leave the user throttled
// (429) once the database is back, as docs/user-database.md promises.
func TestThrottleCheckerOutageIsRefunded(t *testing.T) {
	down := true
	checker := authcheck.Func(func(ctx context.Context, username, password string) (string, error) {
		if down {
			return "", errors.New("users: database down")
		}
		if username == "johndoe" && password == "foobar42" {
			return "user-1", nil
		}
		return "", authcheck.ErrInvalidCredentials
	})
	e := newEnv(t, func(c *provider.Config) { c.Users = checker })
	for range 2 * provider.DefaultUserRate.Burst {
		assertError(t, e.do(req{form: wrongPassword(), basic: conf}), 503, "temporarily_unavailable")
	}
	down = false
	assertToken(t, e.do(req{form: password(), basic: conf}))
}
