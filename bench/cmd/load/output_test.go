package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// traffic is what a recording server saw: requests by kind ("GET
// /api/me", "password demo-client", "refresh_token demo-spa") and every
// token it issued.
type traffic struct {
	mu     sync.Mutex
	hits   map[string]int
	issued []string
}

// recorder is an http.ResponseWriter that keeps a copy of the body.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// recordingQuickstart is quickstartLike with the traffic recorded.
func recordingQuickstart(t *testing.T) (*httptest.Server, *traffic) {
	t.Helper()
	tr := &traffic{hits: map[string]int{}}
	h := quickstartHandler(t, demoSecret)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := r.Method + " " + r.URL.Path
		if r.URL.Path == "/oauth2/token" {
			b, err := io.ReadAll(r.Body)
			form, err2 := url.ParseQuery(string(b))
			if !assert.NoError(t, err) || !assert.NoError(t, err2) { // not require: not the test's goroutine
				http.Error(w, "unreadable", http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			client, _, ok := r.BasicAuth()
			if !ok {
				client = form.Get("client_id")
			}
			kind = form.Get("grant_type") + " " + client
		}
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		var tk tokens
		_ = json.Unmarshal(rec.body.Bytes(), &tk)
		tr.mu.Lock()
		defer tr.mu.Unlock()
		tr.hits[kind]++
		for _, s := range []string{tk.AccessToken, tk.RefreshToken} {
			if s != "" {
				tr.issued = append(tr.issued, s)
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, tr
}

// row is one result line of the output.
type row struct {
	phase, raw string
	conc, n    int
	rate       float64
	p50, p99   time.Duration
}

// The output is a header and one row per phase and level, in the order
// asked, with the requests counted, their rate and two percentiles; each
// phase sends its own requests (the api phase GET /api/me with a bearer
// token, the refresh phase the demo client's refreshes, spa-refresh the
// public client's) and no token it was given is printed.
func TestRunOutputAndTraffic(t *testing.T) {
	srv, tr := recordingQuickstart(t)
	var out bytes.Buffer
	const count = 6
	require.NoError(t, run(&out, options{url: srv.URL, store: "memory", levels: "1,2",
		phases: "api,password,refresh,spa-refresh", duration: 5 * time.Second, count: count}))

	sc := bufio.NewScanner(&out)
	require.True(t, sc.Scan())
	assert.Equal(t, "quickstart at "+srv.URL+", store memory; each phase ≤ 5s and ≤ 6 requests", sc.Text())
	require.True(t, sc.Scan())
	assert.Empty(t, sc.Text())
	require.True(t, sc.Scan())
	assert.Equal(t, []string{"phase", "conc", "requests", "req/s", "p50", "p99"}, strings.Fields(sc.Text()))
	var rows []row
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		require.Len(t, f, 6, sc.Text())
		var r row
		var err error
		r.phase, r.raw = f[0], sc.Text()
		r.conc, err = strconv.Atoi(f[1])
		require.NoError(t, err)
		r.n, err = strconv.Atoi(f[2])
		require.NoError(t, err)
		r.rate, err = strconv.ParseFloat(f[3], 64)
		require.NoError(t, err)
		r.p50, err = time.ParseDuration(f[4])
		require.NoError(t, err)
		r.p99, err = time.ParseDuration(f[5])
		require.NoError(t, err)
		rows = append(rows, r)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.phase+" "+strconv.Itoa(r.conc))
		assert.Equal(t, count, r.n, "the request bound, reached well within 5s: %s", r.raw)
		assert.Positive(t, r.rate, r.raw)
		assert.Positive(t, r.p50, r.raw)
		assert.LessOrEqual(t, r.p50, r.p99, r.raw)
	}
	assert.Equal(t, []string{"api 1", "api 2", "password 1", "password 2", "refresh 1", "refresh 2", "spa-refresh 1", "spa-refresh 2"}, got)

	tr.mu.Lock()
	defer tr.mu.Unlock()
	assert.Equal(t, map[string]int{
		"GET /api/me": 2 * count,
		// one per worker to set up api (1+2) and refresh (1+2), and the
		// password phase's own
		"password demo-client":      3 + 2*count + 3,
		"refresh_token demo-client": 2 * count,
		"password demo-spa":         3,
		"refresh_token demo-spa":    2 * count,
	}, tr.hits)
	require.NotEmpty(t, tr.issued)
	for _, tok := range tr.issued {
		require.NotContains(t, out.String(), tok, "a token in the output")
	}
}

// A run that fails reports which phase failed at which level and why,
// after the rows of the phases that passed.
func TestRunReportsTheFailingPhase(t *testing.T) {
	srv := tokenServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) })
	var out bytes.Buffer
	err := run(&out, options{url: srv.URL, store: "memory", levels: "1", phases: "password,api",
		duration: time.Second, count: 3})
	require.EqualError(t, err, "api at concurrency 1: /api/me: status 403")
	assert.Contains(t, out.String(), "\npassword        1        3 ")
	assert.NotContains(t, out.String(), "\napi ")
}

// A 200 from the token endpoint without both tokens is an error.
func TestRunFailsOnATokenResponseWithoutARefreshToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer"}`))
	}))
	t.Cleanup(srv.Close)
	err := run(io.Discard, options{url: srv.URL, store: "memory", levels: "1", phases: "password",
		duration: time.Second, count: 3})
	require.ErrorContains(t, err, "without both tokens")
}

// The p50 and p99 columns are the phase's p50 and p99, in that order.
func TestRunPrintsP50ThenP99(t *testing.T) {
	const slow = 20 * time.Millisecond
	var calls atomic.Int64
	srv := tokenServer(t, func(http.ResponseWriter, *http.Request) {
		if calls.Add(1) > 5 {
			time.Sleep(slow)
		}
	})
	var out bytes.Buffer
	require.NoError(t, run(&out, options{url: srv.URL, store: "memory", levels: "1", phases: "api",
		duration: 5 * time.Second, count: 6}))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	f := strings.Fields(lines[len(lines)-1])
	require.Len(t, f, 6)
	p50, err := time.ParseDuration(f[4])
	require.NoError(t, err)
	p99, err := time.ParseDuration(f[5])
	require.NoError(t, err)
	assert.Less(t, p50, slow, out.String())
	assert.GreaterOrEqual(t, p99, slow, out.String())
}

// The URL it prints hides a password -url holds, as -store's does.
func TestRunHidesThePasswordOfTheURL(t *testing.T) {
	srv := quickstartLike(t, demoSecret)
	var out bytes.Buffer
	u := strings.Replace(srv.URL, "http://", "http://me:s3cret@", 1)
	require.NoError(t, run(&out, options{url: u, store: "memory", levels: "1", phases: "api",
		duration: time.Second, count: 2}))
	assert.NotContains(t, out.String(), "s3cret")
	assert.Contains(t, out.String(), "quickstart at http://me:xxxxx@127.0.0.1:")
}
