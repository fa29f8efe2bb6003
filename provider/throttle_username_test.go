package provider_test

import (
	"context"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
)

// Many user databases take "johndoe " and "JOHNDOE" for johndoe: MySQL's
// default PAD SPACE, case-insensitive collations, citext, or an app that
// trims and case-folds what was typed. Each such spelling of a username
// must not be a fresh per-(username, IP) budget for guessing its
// password: the throttling key ignores surrounding white space, takes a
// run of white space inside for one space (LDAP), ignores accents
// and compatibility forms (fullwidth letters), and folds case fully (Σ, σ
// and ς; K and the Kelvin sign K; ß and ss), not only what
// strings.ToLower maps.
func TestThrottleUsernameSpellingsShareABudget(t *testing.T) {
	lenient := authcheck.Func(func(_ context.Context, username, password string) (string, error) {
		if strings.EqualFold(strings.TrimSpace(username), "johndoe") && password == "foobar42" {
			return "user-1", nil
		}
		return "", authcheck.ErrInvalidCredentials
	})
	for _, c := range []struct{ name, first, variant string }{
		{"trailing space", "johndoe", "johndoe "},
		{"leading tab", "johndoe", "\tjohndoe"},
		// LDAP's insignificant space handling (RFC 4518 §2.6.1), as in
		// docs/user-database.md's directory checker: a run of white
		// space inside a uid or cn is one space.
		{"double space inside", "john doe", "john  doe"},
		{"tab inside", "john doe", "john\tdoe"},
		{"no-break spaces inside", "john doe", "JOHN\u00a0\u3000doe"},
		{"Kelvin sign", "kelvin", "\u212aelvin"},
		{"final sigma", "οδυσσεασ", "οδυσσεας"},
		// Accent-insensitive collations (MySQL's default), NFKC, and
		// full case folding.
		{"diaeresis", "johndoe", "jöhndoe"},
		{"acute accent", "johndoe", "jóhndoe"},
		{"decomposed accent", "jöhndoe", "jo\u0308hndoe"},
		{"fullwidth", "johndoe", "ｊｏｈｎｄｏｅ"},
		{"sharp s", "strasse", "STRAẞE"},
		{"zero-width space", "johndoe", "john\u200bdoe"},
		{"byte order mark", "johndoe", "\ufeffjohndoe"},
		{"soft hyphen", "johndoe", "john\u00addoe"},
		{"zero-width joiner", "johndoe", "jo\u200dhndoe"},
		{"variation selector", "johndoe", "jo\ufe0fhndoe"},
		{"o with stroke", "johndoe", "jøhndoe"},
		{"l with stroke", "leon", "Łeon"},
		{"dotless i", "alice", "alıce"},
		{"Cherokee cases", "\u13a0\u13a1\u13a2", "\uab70\uab71\uab72"},
		{"iota subscript", "\u1fb3", "\u03b1\u03b9"},
		// What the Unicode collation algorithm (ICU, MySQL 8) ignores or
		// takes for ASCII letters beyond that (ucaFold).
		{"C1 control", "johndoe", "john\u0081doe"},
		{"tatweel", "johndoe", "john\u0640doe"},
		{"eth", "johndoe", "johnðoe"},
		{"insular d", "johndoe", "johnꝺoe"},
		{"combining small o", "johndoe", "johnd\u0366e"},
		{"ae ligature", "aeon", "æon"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(cfg *provider.Config) { cfg.Users = lenient })
			for range provider.DefaultUserRate.Burst {
				w := e.do(req{form: password("username", c.first, "password", "nope"), basic: conf})
				assertError(t, w, 400, "invalid_grant")
			}
			w := e.do(req{form: password("username", c.variant, "password", "nope"), basic: conf})
			assertThrottled(t, w, "60")
		})
	}
}
