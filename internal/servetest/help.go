package servetest

import (
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// asMain, set in the environment of the test binary HelpOmits starts,
// makes the calling test run the program's main instead.
const asMain = "SERVETEST_RUN_MAIN_HELP"

// HelpOmits runs the test binary as the program, main with -help, with
// env ("NAME=value") added to its environment, and fails unless its output
// documents flagName and never contains secret: a flag whose default is
// read from the environment must not print it. The test that calls it
// runs again in the child, where HelpOmits calls main and main exits.
func HelpOmits(t *testing.T, main func(), env, flagName, secret string) {
	t.Helper()
	if os.Getenv(asMain) == "1" {
		flag.CommandLine = flag.NewFlagSet(os.Args[0], flag.ExitOnError) // without the test binary's flags
		os.Args = []string{os.Args[0], "-help"}
		main()
		return
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^"+t.Name()+"$") // #nosec G204 -- the test binary itself, to run this very test
	cmd.Env = append(os.Environ(), asMain+"=1", env)
	out, _ := cmd.CombinedOutput() // -help exits with a status of its own
	if !strings.Contains(string(out), "-"+flagName) {
		t.Fatalf("no help printed: %s", out)
	}
	if strings.Contains(string(out), secret) {
		t.Errorf("-help shows the secret:\n%s", out)
	}
}
