package outagetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/testenv"
)

// missing skips the test, or fails it under CI, when a binary is missing.
func missing(t *testing.T, what string) {
	t.Helper()
	testenv.Skipf(t, "%s not found; install it (apt-get install redis-server postgresql) to run the outage tests", what)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// waitFor calls ready until it succeeds or 10 s have passed.
func waitFor(t *testing.T, what string, ready func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := ready(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// redisServer is a redis-server with an append-only file in a temporary
// directory, so that its data outlives a restart like a production
// server's would.
type redisServer struct {
	port int
	dir  string
	cmd  *exec.Cmd
}

func newRedisServer(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		missing(t, "redis-server")
	}
	s := &redisServer{port: freePort(t), dir: t.TempDir()}
	t.Cleanup(func() {
		if s.cmd != nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	return s
}

func (s *redisServer) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

func (s *redisServer) Start(t *testing.T) {
	t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", s.dir)
	require.NoError(t, s.cmd.Start())
	opt, err := goredis.ParseURL(s.URL())
	require.NoError(t, err)
	opt.MaxRetries = -1
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	waitFor(t, "redis-server", func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
}

func (s *redisServer) Stop(t *testing.T) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Freeze stops the process without closing its connections (SIGSTOP): a
// server that hangs. Thaw resumes it.
func (s *redisServer) Freeze(t *testing.T) { require.NoError(t, s.cmd.Process.Signal(syscall.SIGSTOP)) }

// Thaw resumes a frozen server.
func (s *redisServer) Thaw(t *testing.T) { require.NoError(t, s.cmd.Process.Signal(syscall.SIGCONT)) }

// postgresServer is a PostgreSQL cluster in a temporary directory, run as
// the postgres user when the test runs as root (initdb refuses root).
type postgresServer struct {
	bin  string // directory of initdb and pg_ctl
	port int
	dir  string // owned by the server's user; data in dir/data
	cred *syscall.Credential
}

func newPostgresServer(t *testing.T) *postgresServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		missing(t, "PostgreSQL (/usr/lib/postgresql/*/bin/pg_ctl)")
	}
	s := &postgresServer{bin: filepath.Dir(bins[len(bins)-1]), port: freePort(t)}
	dir, err := os.MkdirTemp("", "oauth2-outage-pg-")
	require.NoError(t, err)
	s.dir = dir
	t.Cleanup(func() {
		_ = s.pgctl("stop", "-m", "immediate").Run()
		_ = os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			missing(t, "a postgres user to run PostgreSQL as (initdb refuses root)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		require.NoError(t, os.Chown(dir, uid, gid))
	}
	out, err := s.command("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres",
		"--auth=trust", "--no-sync", "--no-instructions").CombinedOutput()
	require.NoError(t, err, "initdb: %s", out)
	return s
}

// command returns a command of the server's binaries, run as its user.
func (s *postgresServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// pgctl runs pg_ctl on the cluster.
func (s *postgresServer) pgctl(args ...string) *exec.Cmd {
	return s.command("pg_ctl", append([]string{"-D", filepath.Join(s.dir, "data")}, args...)...)
}

func (s *postgresServer) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

func (s *postgresServer) Start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", s.port, s.dir)
	out, err := s.pgctl("start", "-w", "-l", filepath.Join(s.dir, "log"), "-o", opts).CombinedOutput()
	require.NoError(t, err, "pg_ctl start: %s", out)
	waitFor(t, "postgres", func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, s.URL())
		if err != nil {
			return err
		}
		return c.Close(ctx)
	})
}

func (s *postgresServer) Stop(t *testing.T) {
	t.Helper()
	out, err := s.pgctl("stop", "-w", "-m", "immediate").CombinedOutput()
	require.NoError(t, err, "pg_ctl stop: %s", out)
}
