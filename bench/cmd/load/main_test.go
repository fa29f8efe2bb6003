package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// quickstartLike serves what the load generator calls on the quickstart:
// the token endpoint and GET /api/me behind the bearer policy, with the
// demo fixtures; secret is the client's secret it accepts.
func quickstartLike(t *testing.T, secret string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(quickstartHandler(t, secret))
	t.Cleanup(srv.Close)
	return srv
}

// quickstartHandler is quickstartLike's handler.
func quickstartHandler(t *testing.T, secret string) http.Handler {
	t.Helper()
	store := memory.New(memory.Config{})
	require.NoError(t, store.CreateClient(context.Background(), &storage.Client{
		ID: demoClient, SecretHash: storage.HashGeneratedSecret(secret),
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken}, Scopes: []string{"read"},
	}))
	require.NoError(t, store.CreateClient(context.Background(), &storage.Client{
		ID: spaClient, Public: true,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken}, Scopes: []string{"read"},
	}))
	p, err := provider.New(provider.Config{
		Clients: store, Tokens: store, Scopes: []string{"read"}, AllowInsecureHTTP: true,
		DisableThrottling: true, // the load generator sends many grants from one address
		Events:            func(context.Context, provider.Event) {},
		Users: authcheck.Func(func(_ context.Context, u, pw string) (string, error) {
			if u == demoUser && pw == demoPassword {
				return "1", nil
			}
			return "", authcheck.ErrInvalidCredentials
		}),
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /oauth2/token", p.TokenHandler())
	mux.Handle("GET /api/me", policy.Bearer(p)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"user_id":"1"}`))
	})))
	return mux
}

func TestRunAgainstAQuickstart(t *testing.T) {
	srv := quickstartLike(t, demoSecret)
	start := time.Now()
	err := run(io.Discard, options{url: srv.URL, store: "memory", levels: "1,2", phases: "api,password,refresh,spa-refresh",
		duration: 300 * time.Millisecond, count: 20})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 10*time.Second, "every phase is bounded")
}

func TestRunFailsOnAnUnexpectedStatus(t *testing.T) {
	srv := quickstartLike(t, "another-secret") // demo-secret is refused: 401
	err := run(io.Discard, options{url: srv.URL, store: "memory", levels: "1", phases: "password",
		duration: 300 * time.Millisecond, count: 5})
	require.ErrorContains(t, err, "token endpoint: status 401")
}

func TestRunRefusesBadOptions(t *testing.T) {
	for name, o := range map[string]options{
		"a non-loopback URL": {url: "http://192.0.2.1:8080", levels: "1", phases: "api", duration: time.Second, count: 1},
		"a zero duration":    {url: "http://127.0.0.1:1", levels: "1", phases: "api", count: 1},
		"an over-long run":   {url: "http://127.0.0.1:1", levels: "1", phases: "api", duration: time.Hour, count: 1},
		"a bad concurrency":  {url: "http://127.0.0.1:1", levels: "0", phases: "api", duration: time.Second, count: 1},
		"an unknown phase":   {url: "http://127.0.0.1:1", levels: "1", phases: "nope", duration: time.Second, count: 1},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, run(io.Discard, o))
		})
	}
}

// The store URL it prints hides the password the URL may hold.
func TestDescribeStoreHidesThePassword(t *testing.T) {
	assert.Equal(t, "memory", describeStore("memory"))
	got := describeStore("postgres://app:s3cret@db.internal:5432/app?sslmode=verify-full")
	assert.NotContains(t, got, "s3cret")
	assert.Contains(t, got, "db.internal:5432")
	assert.NotContains(t, describeStore("redis://:hunter2@cache:6379/0"), "hunter2")
}

// The percentiles are those of the nearest-rank method: the smallest
// latency that at least p % of the requests did not exceed.
func TestPercentileOfKnownData(t *testing.T) {
	ms := func(n int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = time.Duration(i+1) * time.Millisecond
		}
		return out
	}
	for _, c := range []struct {
		n, p int
		want time.Duration
	}{
		{1, 50, 1 * time.Millisecond},
		{1, 99, 1 * time.Millisecond},
		{2, 50, 1 * time.Millisecond},
		{2, 99, 2 * time.Millisecond},
		{3, 50, 2 * time.Millisecond},
		{10, 99, 10 * time.Millisecond}, // under 100 requests, p99 is the slowest
		{50, 99, 50 * time.Millisecond},
		{99, 99, 99 * time.Millisecond},
		{99, 50, 50 * time.Millisecond},
		{100, 50, 50 * time.Millisecond},
		{100, 99, 99 * time.Millisecond}, // not the slowest of 100
		{101, 50, 51 * time.Millisecond},
		{101, 99, 100 * time.Millisecond},
		{200, 99, 198 * time.Millisecond},
		{1000, 99, 990 * time.Millisecond},
		{5000, 50, 2500 * time.Millisecond},
	} {
		assert.Equal(t, c.want, percentile(ms(c.n), c.p), "p%d of 1..%d ms", c.p, c.n)
	}
	same := []time.Duration{3, 3, 3, 3, 3}
	assert.Equal(t, time.Duration(3), percentile(same, 50))
	assert.Equal(t, time.Duration(3), percentile(same, 99))
}

// Latencies print rounded to 0.1 ms from 10 ms, to 1 µs from 100 µs, and
// as they are below.
func TestRound(t *testing.T) {
	for d, want := range map[time.Duration]string{
		2*time.Second + 512345*time.Microsecond: "2.5123s",
		60712345 * time.Nanosecond:              "60.7ms",
		10 * time.Millisecond:                   "10ms",
		9876543 * time.Nanosecond:               "9.877ms",
		185432 * time.Nanosecond:                "185µs",
		100 * time.Microsecond:                  "100µs",
		99999 * time.Nanosecond:                 "99.999µs",
		850 * time.Nanosecond:                   "850ns",
	} {
		assert.Equal(t, want, round(d), "%d ns", int64(d))
	}
}

// Load goes to the loopback address it was given and nowhere else: a
// redirect is an unexpected status that fails the run, not a request to
// wherever it points (which need not be loopback).
func TestRunFollowsNoRedirect(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	err := run(io.Discard, options{url: srv.URL, store: "memory", levels: "1", phases: "password",
		duration: 300 * time.Millisecond, count: 5})
	require.Error(t, err)
	assert.Zero(t, elsewhere.Load(), "requests sent where the redirect pointed")
}

// Waiting for the quickstart is bounded even when it accepts
// connections and never answers: by its timeout, not by a probe's.
func TestWaitReadyIsBounded(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	ret := make(chan error, 1)
	go func() { ret <- waitReady(srv.URL, nil, 300*time.Millisecond) }()
	select {
	case err := <-ret:
		assert.Error(t, err)
	case <-time.After(1500 * time.Millisecond):
		t.Fatal("waitReady of 300ms still waits after 1.5s for a server that never answers")
	}
}

func TestWaitReady(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	assert.NoError(t, waitReady(srv.URL, nil, time.Second))
	// Not ready until it answers 200.
	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(unavailable.Close)
	assert.Error(t, waitReady(unavailable.URL, nil, 300*time.Millisecond))
	done := make(chan struct{})
	close(done)
	assert.ErrorIs(t, waitReady("http://127.0.0.1:1", done, time.Minute), errExited)
}

// tokenServer answers every token request with a fresh-looking pair and
// GET /api/me with api.
func tokenServer(t *testing.T, api http.HandlerFunc) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/token", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at","refresh_token":"rt","token_type":"Bearer"}`))
	})
	mux.Handle("GET /api/me", api)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// A 200 whose body breaks off (the connection dropped mid-answer) is a
// transport error, and fails the run as any other.
func TestRunFailsOnATruncatedAnswer(t *testing.T) {
	srv := tokenServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = w.Write([]byte(`{"user_id"`)) // then the server closes the connection
	})
	err := run(io.Discard, options{url: srv.URL, store: "memory", levels: "1", phases: "api",
		duration: 300 * time.Millisecond, count: 5})
	require.Error(t, err)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// The time bound holds whatever the request bound: a phase told to stop
// after 1<<40 requests still stops when its time is up, and -n costs
// nothing up front.
func TestPhaseTimeBoundHoldsForAHugeCount(t *testing.T) {
	op := func(context.Context, int) (func(context.Context) error, error) {
		return func(context.Context) error { time.Sleep(time.Millisecond); return nil }, nil
	}
	ret := make(chan error, 1)
	go func() {
		r, err := phase(op, 2, 100*time.Millisecond, 1<<40)
		if err == nil && r.n == 0 {
			err = errors.New("no request")
		}
		ret <- err
	}()
	select {
	case err := <-ret:
		require.NoError(t, err)
	case <-time.After(3 * time.Second):
		t.Fatal("a phase of 100ms with -n 1<<40 still runs after 3s")
	}
}
