package testenv

import (
	"testing"
)

// recorder is a testing.TB that records whether it was skipped or failed
// instead of stopping the test.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skip(...any)           { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestGetenv(t *testing.T) {
	t.Setenv("OAUTH2_TESTENV_X", "v")
	r := &recorder{TB: t}
	if got := Getenv(r, "OAUTH2_TESTENV_X", "hint"); got != "v" || r.skipped || r.failed {
		t.Fatalf("set variable: got %q skipped=%v failed=%v", got, r.skipped, r.failed)
	}

	t.Setenv("OAUTH2_TESTENV_X", "")
	t.Setenv("CI", "")
	r = &recorder{TB: t}
	Getenv(r, "OAUTH2_TESTENV_X", "hint")
	if !r.skipped || r.failed {
		t.Fatalf("outside CI a missing variable skips: skipped=%v failed=%v", r.skipped, r.failed)
	}

	t.Setenv("CI", "true")
	r = &recorder{TB: t}
	Getenv(r, "OAUTH2_TESTENV_X", "hint")
	if r.skipped || !r.failed {
		t.Fatalf("in CI a missing variable fails: skipped=%v failed=%v", r.skipped, r.failed)
	}
}
