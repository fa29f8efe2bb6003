package provider_test

import (
	"context"
	"testing"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
)

// TestThrottleCheckerReturningProvidersSentinel: provider has its own
// ErrInvalidCredentials, of the same name and meaning as authcheck's, and
// a checker written next to code that uses it (a login form's handler)
// may well return it. Taking it for an outage would answer each wrong
// password 503 and refund it: an unthrottled guessing oracle. It is a
// wrong password like authcheck's.
func TestThrottleCheckerReturningProvidersSentinel(t *testing.T) {
	checker := authcheck.Func(func(_ context.Context, username, password string) (string, error) {
		if username == "johndoe" && password == "foobar42" {
			return "user-1", nil
		}
		return "", provider.ErrInvalidCredentials
	})
	e := newEnv(t, func(c *provider.Config) { c.Users = checker })
	for range provider.DefaultUserRate.Burst {
		assertError(t, e.do(req{form: wrongPassword(), basic: conf}), 400, "invalid_grant")
	}
	assertThrottled(t, e.do(req{form: password(), basic: conf}), "60")
}
