package main

import (
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// -help does not print $DATABASE_URL, password included, as the flag's
// default. The test binary runs main as the program.
func TestHelpHidesThePassword(t *testing.T) {
	if os.Getenv("EXAMPLE_RUN_MAIN") == "1" {
		flag.CommandLine = flag.NewFlagSet("postgres", flag.ExitOnError)
		os.Args = []string{"postgres", "-help"}
		main()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelpHidesThePassword$")
	cmd.Env = append(os.Environ(), "EXAMPLE_RUN_MAIN=1", "DATABASE_URL=postgres://app:s3cret@db.internal/app?sslmode=verify-full")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "-db") {
		t.Fatalf("no help printed: %s", out)
	}
	if strings.Contains(string(out), "s3cret") {
		t.Errorf("-help shows the password:\n%s", out)
	}
}
