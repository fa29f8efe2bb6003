package main

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A malformed -redis URL is refused without its password in the error,
// which main writes to stderr.
func TestParseErrorHidesThePassword(t *testing.T) {
	err := serve(context.Background(), "127.0.0.1:0", "redis://:s3cret@127.0.0.1:badport/0", "p:")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("want an error without the password, got %v", err)
	}
}

// -help does not print $REDIS_URL, password included, as the flag's
// default. The test binary runs main as the program.
func TestHelpHidesThePassword(t *testing.T) {
	if os.Getenv("EXAMPLE_RUN_MAIN") == "1" {
		flag.CommandLine = flag.NewFlagSet("redis", flag.ExitOnError)
		os.Args = []string{"redis", "-help"}
		main()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelpHidesThePassword$")
	cmd.Env = append(os.Environ(), "EXAMPLE_RUN_MAIN=1", "REDIS_URL=redis://:s3cret@redis.internal:6379/0")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "-redis") {
		t.Fatalf("no help printed: %s", out)
	}
	if strings.Contains(string(out), "s3cret") {
		t.Errorf("-help shows the password:\n%s", out)
	}
}
