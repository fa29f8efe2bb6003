package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary act as the oauth2ctl binary itself when
// OAUTH2CTL_AS_MAIN is set, so that main's exit codes are tested as a
// process's, not only run's return values.
func TestMain(m *testing.M) {
	if os.Getenv("OAUTH2CTL_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// runBinary runs the test binary as oauth2ctl with args and returns its
// exit code and output.
func runBinary(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), self, args...)
	cmd.Env = append(append(os.Environ(), "OAUTH2CTL_AS_MAIN=1"), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return code, stdout.String(), stderr.String()
}

// The exit statuses are those the package doc and docs/operations.md
// give, as numbers: 0 success, 1 failure, 2 bad usage.
func TestBinaryExitCodes(t *testing.T) {
	code, out, _ := runBinary(t, nil, "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "migrate")

	code, _, errOut := runBinary(t, nil, "no-such-command")
	assert.Equal(t, 2, code, errOut)

	// A store that cannot be reached is a failure, reported once, with
	// the URL's password redacted.
	code, _, errOut = runBinary(t, []string{"OAUTH2_STORE=redis://:hunter2@127.0.0.1:1/0"}, "client", "list")
	assert.Equal(t, 1, code, errOut)
	assert.NotContains(t, errOut, "hunter2")
	assert.NotEmpty(t, errOut)
	// Once: go-redis's own log lines of each failed dial stay quiet.
	assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	assert.NotContains(t, errOut, "pool.go")
}

// A bad flag's message goes through oauth2ctl's own redaction alone: the
// flag package, which echoes the flag as typed, writes nothing to the
// process's stderr itself.
func TestBinaryFlagErrorShownOnce(t *testing.T) {
	code, out, errOut := runBinary(t, nil, "client", "list", "--postgres://u:s3cret@db.internal/app")
	assert.Equal(t, exitUsage, code, errOut)
	assert.Empty(t, out)
	assert.NotContains(t, errOut, "s3cret")
	assert.Equal(t, 1, strings.Count(errOut, "flag provided but not defined"), errOut)
}

// SIGINT (Ctrl-C) and SIGTERM stop a command that waits on its store
// through its context: the process exits with status 1 and says why,
// instead of being killed by the signal halfway through. (On Postgres,
// at once; go-redis waits for the store call's timeout.)
func TestBinaryStopsCleanlyOnSignal(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		// A store that takes connections and never answers, of this
		// process alone: its first connection comes after main set up
		// its signals.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		accepted := make(chan net.Conn, 16)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				accepted <- c
			}
		}()
		cmd := exec.CommandContext(t.Context(), self, "--store", "postgres://u@"+ln.Addr().String()+"/db?sslmode=disable", "client", "list")
		cmd.Env = append(os.Environ(), "OAUTH2CTL_AS_MAIN=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		select {
		case c := <-accepted:
			defer c.Close()
		case <-time.After(10 * time.Second):
			t.Fatal("oauth2ctl never connected to the store")
		}
		start := time.Now()
		require.NoError(t, cmd.Process.Signal(sig))
		err = cmd.Wait()
		ee, ok := errors.AsType[*exec.ExitError](err)
		require.True(t, ok, "%v: %v", sig, err)
		assert.Equal(t, 1, ee.ExitCode(), "%v: %s (%v)", sig, stderr.String(), ee)
		assert.True(t, strings.HasPrefix(stderr.String(), "oauth2ctl: "), "%v: %s", sig, stderr.String())
		assert.Less(t, time.Since(start), 2*time.Second, "%v: stopped at the signal, not at a timeout", sig)
	}
}
