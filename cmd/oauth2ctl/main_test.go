package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
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
// through its context, at once, on either kind of store: the process
// exits with status 1 and says why, instead of being killed by the
// signal halfway through. (go-redis does not watch a context's
// cancellation, only its deadline: oauth2ctl closes the client.)
func TestBinaryStopsCleanlyOnSignal(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	for _, tc := range []struct {
		sig   os.Signal
		store string
	}{
		{os.Interrupt, "postgres://u@%s/db?sslmode=disable"},
		{syscall.SIGTERM, "postgres://u@%s/db?sslmode=disable"},
		{os.Interrupt, "redis://%s/0"},
		{syscall.SIGTERM, "redis://%s/0"},
	} {
		sig := tc.sig
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
		cmd := exec.CommandContext(t.Context(), self, "--store", fmt.Sprintf(tc.store, ln.Addr()), "client", "list")
		cmd.Env = append(os.Environ(), "OAUTH2CTL_AS_MAIN=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		select {
		case c := <-accepted:
			defer c.Close()
			// Its first request (a startup message, a HELLO) has come:
			// the client now waits for the answer.
			require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
			_, err := c.Read(make([]byte, 1))
			require.NoError(t, err, "oauth2ctl never sent its first request")
		case <-time.After(10 * time.Second):
			t.Fatal("oauth2ctl never connected to the store")
		}
		start := time.Now()
		require.NoError(t, cmd.Process.Signal(sig))
		err = cmd.Wait()
		ee, ok := errors.AsType[*exec.ExitError](err)
		require.True(t, ok, "%v %s: %v", sig, tc.store, err)
		assert.Equal(t, 1, ee.ExitCode(), "%v %s: %s (%v)", sig, tc.store, stderr.String(), ee)
		assert.True(t, strings.HasPrefix(stderr.String(), "oauth2ctl: "), "%v %s: %s", sig, tc.store, stderr.String())
		assert.Less(t, time.Since(start), 2*time.Second, "%v %s: stopped at the signal, not at a timeout", sig, tc.store)
	}
}

// A signal stops a command whose store answered when it was opened and
// then went silent, at once too: go-redis, which does not watch its
// context's cancellation, has its client closed under it.
func TestBinaryStopsOnSignalMidCommand(t *testing.T) {
	self, err := os.Executable()
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	// silent receives the name of each command the fake left unanswered.
	silent := make(chan string, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go fakeRedisThenSilence(c, silent)
		}
	}()
	cmd := exec.CommandContext(t.Context(), self, "--store", "redis://"+ln.Addr().String()+"/0", "client", "list")
	cmd.Env = append(os.Environ(), "OAUTH2CTL_AS_MAIN=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	select {
	case name := <-silent:
		t.Logf("the fake went silent at %s", name)
	case <-time.After(10 * time.Second):
		t.Fatal("oauth2ctl never got past opening the store")
	}
	start := time.Now()
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err = cmd.Wait()
	ee, ok := errors.AsType[*exec.ExitError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, 1, ee.ExitCode(), stderr.String())
	assert.True(t, strings.HasPrefix(stderr.String(), "oauth2ctl: redis: list clients: "), stderr.String())
	assert.True(t, strings.HasSuffix(stderr.String(), ": context canceled\n"), stderr.String())
	assert.Less(t, time.Since(start), 2*time.Second, "stopped at the signal, not at a timeout")
}

// fakeRedisThenSilence answers on c the commands go-redis sends to open a
// connection and the store's ping (HELLO refused, so that go-redis falls
// back to RESP2; CLIENT and PING), then reads every other command and
// answers none, sending its name to silent.
func fakeRedisThenSilence(c net.Conn, silent chan<- string) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		args, err := readRESPArray(r)
		if err != nil {
			return
		}
		switch strings.ToUpper(args[0]) {
		case "HELLO":
			_, err = io.WriteString(c, "-ERR unknown command 'HELLO'\r\n")
		case "CLIENT":
			_, err = io.WriteString(c, "+OK\r\n")
		case "PING":
			_, err = io.WriteString(c, "+PONG\r\n")
		default:
			silent <- args[0]
		}
		if err != nil {
			return
		}
	}
}

// readRESPArray reads one command, an array of bulk strings, from r.
func readRESPArray(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
	if err != nil || !strings.HasPrefix(line, "*") || n < 1 {
		return nil, fmt.Errorf("not a command: %q", line)
	}
	args := make([]string, n)
	for i := range args {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "$")))
		if err != nil || size < 0 {
			return nil, fmt.Errorf("not a bulk string: %q", line)
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		args[i] = string(b[:size])
	}
	return args, nil
}
