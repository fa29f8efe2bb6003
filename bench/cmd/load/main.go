// Command load measures the quickstart over real HTTP on loopback:
// protected-route requests per second (GET /api/me with a bearer token),
// password grants and refresh grants per second, each at several
// concurrency levels, with p50 and p99 latency. Every phase is bounded in
// time and in count, and any error (a transport error or an unexpected
// status) stops the run with a non-zero exit.
//
// By default it builds ./examples/quickstart from the repository at -repo
// and starts it on a free loopback port with -store; with -url it uses a
// quickstart that is already running on a loopback address instead.
//
//	cd bench && go run ./cmd/load                      # memory store
//	go run ./cmd/load -store redis://127.0.0.1:6379/0  # Redis
//	go run ./cmd/load -c 1,8,32 -d 3s -n 20000
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/loopback"
	"github.com/oauth2provider/oauth2provider/internal/storeurl"
)

// The quickstart's demo fixtures (see DESIGN.md, "The quickstart contract").
const (
	demoClient   = "demo-client"
	demoSecret   = "demo-secret"
	spaClient    = "demo-spa" // the quickstart's public client
	demoUser     = "johndoe"
	demoPassword = "foobar42"
)

func main() {
	var o options
	flag.StringVar(&o.repo, "repo", "..", "the repository whose ./examples/quickstart is built and started")
	flag.StringVar(&o.store, "store", "memory", "the quickstart's -store: memory, or a postgres://… or redis://… URL")
	flag.StringVar(&o.url, "url", "", "base URL of a quickstart already running on loopback (then nothing is started)")
	flag.StringVar(&o.levels, "c", "1,8,32", "concurrency levels, comma-separated")
	flag.DurationVar(&o.duration, "d", 3*time.Second, "time bound of each phase")
	flag.IntVar(&o.count, "n", 20000, "request bound of each phase")
	flag.StringVar(&o.phases, "phases", "api,password,refresh,spa-refresh", "phases to run, comma-separated")
	flag.Parse()
	if err := run(os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

type options struct {
	repo, store, url, levels, phases string
	duration                         time.Duration
	count                            int
}

// run runs the phases o names and writes the results to w.
func run(w io.Writer, o options) error {
	levels, err := parseLevels(o.levels)
	if err != nil {
		return err
	}
	if o.duration <= 0 || o.duration > 5*time.Minute || o.count <= 0 {
		return errors.New("-d must be in (0, 5m] and -n positive")
	}
	// Every phase is known before anything is built, started or sent.
	phases := strings.Split(o.phases, ",")
	for _, ph := range phases {
		if phaseOps[ph] == nil {
			return fmt.Errorf("unknown phase %q", ph)
		}
	}
	base := o.url
	if base == "" {
		stop, u, err := startQuickstart(o.repo, o.store)
		if err != nil {
			return err
		}
		defer stop()
		base = u
	}
	if err := checkLoopback(base); err != nil {
		return err
	}
	maxC := slices.Max(levels)
	c := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: maxC, MaxConnsPerHost: maxC, Proxy: nil},
		Timeout:   10 * time.Second,
		// A redirect is answered as it is, an unexpected status that
		// fails the run: following it could send the load off loopback.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	l := &loader{c: c, base: base}

	fmt.Fprintf(w, "quickstart at %s, store %s; each phase ≤ %s and ≤ %d requests\n\n", storeurl.Redact(base), describeStore(o.store), o.duration, o.count)
	fmt.Fprintf(w, "%-11s %5s %8s %10s %10s %10s\n", "phase", "conc", "requests", "req/s", "p50", "p99")
	for _, ph := range phases {
		op := func(ctx context.Context, worker int) (func(context.Context) error, error) {
			return phaseOps[ph](l, ctx, worker)
		}
		for _, n := range levels {
			r, err := phase(op, n, o.duration, o.count)
			if err != nil {
				return fmt.Errorf("%s at concurrency %d: %w", ph, n, err)
			}
			fmt.Fprintf(w, "%-11s %5d %8d %10.0f %10s %10s\n", ph, n, r.n, r.rate, round(r.p50), round(r.p99))
		}
	}
	return nil
}

// phaseOps are the phases by name: each returns, for one worker, the
// request the phase measures, after its set-up.
var phaseOps = map[string]func(l *loader, ctx context.Context, worker int) (func(context.Context) error, error){
	"api":         (*loader).apiOp,
	"password":    (*loader).passwordOp,
	"refresh":     (*loader).refreshOp,
	"spa-refresh": (*loader).spaRefreshOp,
}

func parseLevels(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 256 {
			return nil, fmt.Errorf("bad concurrency level %q (1..256)", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// checkLoopback refuses a target that is not on a loopback address: this
// is a load generator, to be pointed at one's own machine only.
func checkLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	if host := u.Hostname(); !loopback.Host(host) {
		return fmt.Errorf("%s is not a loopback address; load is only generated on loopback", storeurl.Printable(host))
	}
	return nil
}

// describeStore returns the -store value to print: "memory", or the URL
// without its password.
func describeStore(store string) string {
	if store == "memory" {
		return store
	}
	return storeurl.Redact(store)
}

// startQuickstart builds the quickstart, starts it on a free loopback
// port and waits until it answers. stop ends it with SIGTERM.
func startQuickstart(repo, store string) (stop func(), base string, err error) {
	dir, err := os.MkdirTemp("", "loadqs")
	if err != nil {
		return nil, "", err
	}
	bin := filepath.Join(dir, "quickstart")
	build := exec.Command("go", "build", "-o", bin, "./examples/quickstart")
	build.Dir = repo
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", fmt.Errorf("build the quickstart: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	// The quickstart logs an event per token; that goes to a file, so
	// that the terminal is not the bottleneck, and is shown if it fails.
	logf, err := os.Create(filepath.Join(dir, "quickstart.log"))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	showLog := func() {
		b, _ := os.ReadFile(logf.Name())
		os.Stderr.Write(b[max(0, len(b)-4096):])
	}
	cmd := exec.Command(bin, "-addr", addr, "-store", store)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = logf.Close()
		_ = os.RemoveAll(dir)
	}
	base = "http://" + addr
	if err := waitReady(base, done, 60*time.Second); err != nil {
		// stop also suits a server that exited: it signals nothing then.
		showLog()
		stop()
		return nil, "", err
	}
	return stop, base, nil
}

// errExited is waitReady's error when the server exited first.
var errExited = errors.New("the quickstart exited before it answered")

// waitReady polls base until it answers 200, done is closed (the server
// exited) or timeout passes.
func waitReady(base string, done <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	// Each probe is bounded too: a server that accepts and never
	// answers must not hold the run.
	c := &http.Client{Timeout: min(timeout, 2*time.Second)}
	for {
		resp, err := c.Get(base + "/")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return errExited
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the quickstart did not answer within %s", timeout)
		}
	}
}

// loader makes the requests of the phases.
type loader struct {
	c    *http.Client
	base string
}

// tokens is the part of a token response the loader uses.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// token sends a token request as the demo client, or, when form names a
// client_id, as that public client.
func (l *loader) token(ctx context.Context, form url.Values) (tokens, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.base+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return tokens{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !form.Has("client_id") {
		req.SetBasicAuth(demoClient, demoSecret)
	}
	resp, err := l.c.Do(req)
	if err != nil {
		return tokens{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return tokens{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return tokens{}, fmt.Errorf("token endpoint: status %d", resp.StatusCode)
	}
	var t tokens
	if err := json.Unmarshal(body, &t); err != nil {
		return tokens{}, err
	}
	if t.AccessToken == "" || t.RefreshToken == "" {
		return tokens{}, errors.New("token endpoint: a response without both tokens")
	}
	return t, nil
}

var passwordForm = url.Values{"grant_type": {"password"}, "username": {demoUser}, "password": {demoPassword}, "scope": {"read"}}

// apiOp gets one access token for the worker (not measured) and returns
// a GET /api/me with it.
func (l *loader) apiOp(ctx context.Context, _ int) (func(context.Context) error, error) {
	t, err := l.token(ctx, passwordForm)
	if err != nil {
		return nil, err
	}
	authz := "Bearer " + t.AccessToken
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.base+"/api/me", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", authz)
		resp, err := l.c.Do(req)
		if err != nil {
			return err
		}
		// The answer is read to its end: one that breaks off is a
		// transport error like any other.
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/api/me: status %d", resp.StatusCode)
		}
		if err != nil {
			return fmt.Errorf("/api/me: read the answer: %w", err)
		}
		return nil
	}, nil
}

func (l *loader) passwordOp(context.Context, int) (func(context.Context) error, error) {
	return func(ctx context.Context) error {
		_, err := l.token(ctx, passwordForm)
		return err
	}, nil
}

// refreshOp gets one grant for the worker (not measured) and returns a
// refresh of its chain, by the demo client (an argon2id secret).
func (l *loader) refreshOp(ctx context.Context, _ int) (func(context.Context) error, error) {
	return l.refreshChain(ctx, nil)
}

// spaRefreshOp is refreshOp by the quickstart's public client, which has
// no secret to verify: the token endpoint's own cost.
func (l *loader) spaRefreshOp(ctx context.Context, _ int) (func(context.Context) error, error) {
	return l.refreshChain(ctx, url.Values{"client_id": {spaClient}})
}

// refreshChain gets one grant for the worker with the extra form values
// (not measured) and returns a refresh of its chain with them.
func (l *loader) refreshChain(ctx context.Context, extra url.Values) (func(context.Context) error, error) {
	form := func(v url.Values) url.Values {
		for k, vs := range extra {
			v[k] = vs
		}
		return v
	}
	t, err := l.token(ctx, form(maps.Clone(passwordForm)))
	if err != nil {
		return nil, err
	}
	rt := t.RefreshToken
	return func(ctx context.Context) error {
		t, err := l.token(ctx, form(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}))
		if err != nil {
			return err
		}
		rt = t.RefreshToken
		return nil
	}, nil
}

type result struct {
	n        int
	rate     float64
	p50, p99 time.Duration
}

// phase runs op from n workers until d passes or count requests started,
// and stops at the first error.
func phase(newOp func(context.Context, int) (func(context.Context) error, error), n int, d time.Duration, count int) (result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ops := make([]func(context.Context) error, n)
	for i := range ops {
		op, err := newOp(ctx, i)
		if err != nil {
			return result{}, fmt.Errorf("set-up: %w", err)
		}
		ops[i] = op
	}

	var (
		mu       sync.Mutex
		firstErr error
		lat      = make([][]time.Duration, n)
		wg       sync.WaitGroup
	)
	// A request starts only with a ticket, taken from a counter rather
	// than a channel filled up front: filling -n tickets took time
	// outside the time bound (minutes for -n 1e10).
	var tickets atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			for tickets.Add(1) <= int64(count) {
				if ctx.Err() != nil || time.Now().After(deadline) {
					return
				}
				t0 := time.Now()
				if err := ops[i](ctx); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return result{}, firstErr
	}
	all := slices.Concat(lat...)
	if len(all) == 0 {
		return result{}, errors.New("no request completed")
	}
	slices.Sort(all)
	return result{
		n:    len(all),
		rate: float64(len(all)) / elapsed.Seconds(),
		p50:  percentile(all, 50),
		p99:  percentile(all, 99),
	}, nil
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted, which
// is not empty, by the nearest-rank method: the ⌈p/100·n⌉-th smallest,
// the least value at least p % of the latencies do not exceed.
func percentile(sorted []time.Duration, p int) time.Duration {
	return sorted[max(0, (len(sorted)*p+99)/100-1)]
}

func round(d time.Duration) string {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= 100*time.Microsecond:
		return d.Round(time.Microsecond).String()
	}
	return d.String()
}
