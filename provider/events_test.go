package provider_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// leaks returns what in log looks like a token, or is one of the test
// suite's secrets and passwords.
func leaks(log string) []string {
	var found []string
	for _, s := range []string{confSecret, otherSecret, weirdSecret, "foobar42", "nope", "other-secret", "demo-secret", "SECRET-"} {
		if strings.Contains(log, s) {
			found = append(found, s)
		}
	}
	return append(found, providertest.TokenPattern.FindAllString(log, 3)...)
}

// TestMain runs every test of the package with slog's default logger
// capturing, which is where providers without Config.Events or
// Config.Logger send their security events, and fails the run when any
// record holds a token, a client secret or a password.
func TestMain(m *testing.M) {
	captured := &providertest.LockedBuffer{}
	slog.SetDefault(slog.New(slog.NewTextHandler(captured, &slog.HandlerOptions{Level: slog.LevelDebug})))
	code := m.Run()
	if code == 0 {
		log := captured.String()
		switch {
		case flag.Lookup("test.run").Value.String() != "":
			// A chosen subset of the tests may log no events at all.
		case !strings.Contains(log, "event=token_issued") || !strings.Contains(log, "event=user_auth_failed"):
			fmt.Fprintln(os.Stderr, "events: the test flows logged no security events; the leak check checked nothing")
			code = 1
		case len(leaks(log)) > 0:
			fmt.Fprintf(os.Stderr, "events: security event records hold secrets or tokens: %q\n", leaks(log))
			code = 1
		}
	}
	os.Exit(code)
}

func TestLeakCheckFindsTokensAndSecrets(t *testing.T) {
	e := newEnv(t, nil)
	m := e.issue(t)
	assert.NotEmpty(t, leaks("x="+m["access_token"].(string)))
	assert.NotEmpty(t, leaks("x="+m["refresh_token"].(string)))
	assert.NotEmpty(t, leaks("secret="+confSecret))
	assert.Empty(t, leaks(`event=token_issued grant_id=ql7NjsVbk1lAYbBSgIx9nA`))
}

// eventLog collects the events given to its hook, for a test to read;
// safe for concurrent use.
type eventLog struct {
	mu     sync.Mutex
	events []provider.Event
}

// hook is a Config.Events hook that records ev.
func (l *eventLog) hook(_ context.Context, ev provider.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// take returns the events recorded so far and forgets them.
func (l *eventLog) take() []provider.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	got := l.events
	l.events = nil
	return got
}

func TestEventsOfTheFlows(t *testing.T) {
	events := &eventLog{}
	e := newEnv(t, func(c *provider.Config) { c.Events = events.hook })
	last := func() provider.Event {
		got := events.take()
		require.NotEmpty(t, got)
		return got[len(got)-1]
	}
	now := e.clock.Now()
	ip := netip.MustParseAddr("192.0.2.1")

	m := e.issue(t)
	grantID := mustGrantID(t, e, m["access_token"].(string))
	assert.Equal(t, provider.Event{Type: provider.EventTokenIssued, Time: now, ClientID: "conf", UserID: "user-1",
		GrantID: grantID, GrantType: "password", IP: ip}, last())

	rt := m["refresh_token"].(string)
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	assertToken(t, e.do(req{form: refresh, basic: conf}))
	assert.Equal(t, provider.Event{Type: provider.EventTokenIssued, Time: now, ClientID: "conf", UserID: "user-1",
		GrantID: grantID, GrantType: "refresh_token", IP: ip}, last())

	assertError(t, e.do(req{form: refresh, basic: conf}), 400, "invalid_grant")
	assert.Equal(t, provider.Event{Type: provider.EventRefreshReuse, Time: now, ClientID: "conf", UserID: "user-1",
		GrantID: grantID, IP: ip, Reason: "consumed refresh token presented again; grant revoked"}, last())

	m = e.issue(t)
	grantID = mustGrantID(t, e, m["access_token"].(string))
	_ = last()
	assertRevoked200(t, call(e.p.RevokeHandler(), req{form: tokenForm(m["access_token"].(string)), basic: conf}))
	assert.Equal(t, provider.Event{Type: provider.EventGrantRevoked, Time: now, ClientID: "conf", UserID: "user-1",
		GrantID: grantID, IP: ip, Reason: "revoked by the client (RFC 7009)"}, last())

	// A spent refresh token revokes its grant too; the store's exchange,
	// which finds it, names the grant's user in its storage.ReuseError.
	m = e.issue(t)
	grantID = mustGrantID(t, e, m["access_token"].(string))
	assertToken(t, e.do(req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}, basic: conf}))
	_ = last()
	assertRevoked200(t, call(e.p.RevokeHandler(), req{form: tokenForm(m["refresh_token"].(string)), basic: conf}))
	assert.Equal(t, provider.Event{Type: provider.EventGrantRevoked, Time: now, ClientID: "conf", UserID: "user-1",
		GrantID: grantID, IP: ip, Reason: "revoked by the client with a spent refresh token (RFC 7009)"}, last())

	assertError(t, e.do(req{form: password(), basic: []string{"conf", otherSecret}}), 401, "invalid_client")
	assert.Equal(t, provider.Event{Type: provider.EventClientAuthFailed, Time: now, ClientID: "conf", IP: ip,
		Reason: "wrong client secret or unknown client"}, last())

	// A client_id naming no client may be a misplaced secret: not reported.
	assertError(t, e.do(req{form: password("client_id", confSecret, "client_secret", "conf")}), 401, "invalid_client")
	assert.Equal(t, provider.Event{Type: provider.EventClientAuthFailed, Time: now, IP: ip,
		Reason: "wrong client secret or unknown client"}, last())

	assertError(t, e.do(req{form: password(), basic: []string{"disabled", confSecret}}), 401, "invalid_client")
	assert.Equal(t, provider.Event{Type: provider.EventClientAuthFailed, Time: now, ClientID: "disabled", IP: ip,
		Reason: "client disabled"}, last())

	// A client_id alone (no secret) fails for a confidential client, an
	// unknown one and a disabled public one: reported like a wrong secret.
	assertError(t, e.do(req{form: password("client_id", "conf")}), 401, "invalid_client")
	assert.Equal(t, provider.Event{Type: provider.EventClientAuthFailed, Time: now, ClientID: "conf", IP: ip,
		Reason: "no client secret for a confidential client"}, last())
	assertError(t, e.do(req{form: password("client_id", "nobody")}), 401, "invalid_client")
	assert.Equal(t, provider.Event{Type: provider.EventClientAuthFailed, Time: now, IP: ip,
		Reason: "wrong client secret or unknown client"}, last())
	assertError(t, e.do(req{form: password("client_id", "pub-disabled")}), 401, "invalid_client")
	assert.Equal(t, provider.Event{Type: provider.EventClientAuthFailed, Time: now, ClientID: "pub-disabled", IP: ip,
		Reason: "client disabled"}, last())

	for range provider.DefaultUserRate.Burst - 1 {
		assertError(t, e.do(req{form: password("password", "nope"), basic: conf}), 400, "invalid_grant")
		assert.Equal(t, provider.Event{Type: provider.EventUserAuthFailed, Time: now, ClientID: "conf", IP: ip,
			Reason: "invalid username or password"}, last(), "the client the password came through is known")
	}
	assertError(t, e.do(req{form: password("password", "nope"), basic: conf}), 400, "invalid_grant")
	got := events.take()
	require.Len(t, got, 2, "the failure that reaches the limit is reported, then the throttling")
	assert.Equal(t, provider.EventUserAuthFailed, got[0].Type)
	assert.Equal(t, provider.Event{Type: provider.EventThrottled, Time: now, ClientID: "conf", IP: ip,
		Reason: "invalid username or password", RetryAfter: time.Minute}, got[1])

	// Refused attempts are not reported one by one.
	assertThrottled(t, e.do(req{form: password(), basic: conf}), "60")
	assert.Empty(t, events.take())
}

// A failure at a login form ([provider.Provider.AuthenticateUser]) came
// through no client: its event names none.
func TestLoginFormFailureEventNamesNoClient(t *testing.T) {
	events := &eventLog{}
	e := newEnv(t, func(c *provider.Config) { c.Events = events.hook })
	_, err := e.p.AuthenticateUser(req{}.build(), "johndoe", "nope")
	require.ErrorIs(t, err, provider.ErrInvalidCredentials)
	assert.Equal(t, []provider.Event{{Type: provider.EventUserAuthFailed, Time: e.clock.Now(),
		IP: netip.MustParseAddr("192.0.2.1"), Reason: "invalid username or password"}}, events.take())
}

func TestEventsLogToConfigLogger(t *testing.T) {
	// Config.Logger, and provider.LogEvents as the Events hook, log alike.
	for name, configure := range map[string]func(*provider.Config, *slog.Logger){
		"Logger":    func(c *provider.Config, l *slog.Logger) { c.Logger = l },
		"LogEvents": func(c *provider.Config, l *slog.Logger) { c.Events = provider.LogEvents(l) },
	} {
		t.Run(name, func(t *testing.T) {
			var buf providertest.LockedBuffer
			e := newEnv(t, func(c *provider.Config) {
				configure(c, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
					ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
						if a.Key == slog.TimeKey {
							return slog.Attr{}
						}
						return a
					},
				})))
			})
			m := e.issue(t)
			grantID := mustGrantID(t, e, m["access_token"].(string))
			assertError(t, e.do(req{form: password(), basic: []string{"conf", otherSecret}}), 401, "invalid_client")
			assert.Equal(t,
				`level=INFO msg="oauth2: token_issued" event=token_issued client_id=conf user_id=user-1 grant_id=`+grantID+` grant_type=password ip=192.0.2.1`+"\n"+
					`level=WARN msg="oauth2: client_auth_failed" event=client_auth_failed client_id=conf ip=192.0.2.1 reason="wrong client secret or unknown client"`+"\n",
				buf.String())
			assert.Empty(t, leaks(buf.String()))
		})
	}
}

// serveRecovering serves rq with h and returns the response and what the
// handler panicked with (nil when it did not).
func serveRecovering(h http.Handler, rq req) (w *httptest.ResponseRecorder, panicked any) {
	w = httptest.NewRecorder()
	defer func() { panicked = recover() }()
	h.ServeHTTP(w, rq.build())
	return w, nil
}

// A panicking Events hook is a bug of the app's, but it must not undo
// what the provider did before it was called: a refresh that the store
// committed is answered (else the client, holding only the consumed
// refresh token, presents it again and its grant is revoked as reused),
// and a grant whose bound token was presented from elsewhere is revoked.
func TestEventsHookPanicLosesNothing(t *testing.T) {
	var boom atomic.Bool
	var logged providertest.LockedBuffer
	hook := func(context.Context, provider.Event) {
		if boom.Load() {
			panic("audit log: connection reset")
		}
	}

	t.Run("RFC 9700 §4.14.2: a committed rotation is answered", func(t *testing.T) {
		e := newEnv(t, func(c *provider.Config) {
			c.Events = hook
			c.Logger = slog.New(slog.NewTextHandler(&logged, nil))
		})
		m := e.issue(t)
		boom.Store(true)
		defer boom.Store(false)
		refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}
		w, panicked := serveRecovering(e.h, req{form: refresh, basic: conf})
		require.Nil(t, panicked, "the hook's panic reached the server, which drops the response")
		m2 := assertToken(t, w)
		_, err := e.validate(m2["access_token"].(string))
		assert.NoError(t, err, "the grant lives on")
		assert.Contains(t, logged.String(), "audit log: connection reset", "the panic is logged")
		assert.Contains(t, logged.String(), `level=ERROR msg="oauth2: Events hook panicked"`, "at Error, for an alert to fire")
	})

	t.Run("a bound grant presented from elsewhere is revoked", func(t *testing.T) {
		e := newEnv(t, func(c *provider.Config) {
			c.BindingKey = bindingKey
			c.Events = hook
			c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		})
		tok := e.issueFrom(t, "192.0.2.1:4444", "Firefox")
		boom.Store(true)
		defer boom.Store(false)
		func() {
			defer func() { _ = recover() }() // the unfixed provider lets it through
			_, err := e.p.ValidateAccessToken(apiRequest("192.0.2.1:5555", "curl/8", ""), tok["access_token"].(string))
			assert.ErrorIs(t, err, provider.ErrInvalidToken)
		}()
		_, err := e.p.ValidateAccessToken(apiRequest("192.0.2.1:4444", "Firefox", ""), tok["access_token"].(string))
		assert.ErrorIs(t, err, provider.ErrInvalidToken, "the grant is revoked")
	})
}

// docs/security.md: the default logger records token_issued and
// grant_revoked at Info, every other event at Warn.
func TestEventLevels(t *testing.T) {
	for typ, want := range map[provider.EventType]slog.Level{
		provider.EventTokenIssued:      slog.LevelInfo,
		provider.EventGrantRevoked:     slog.LevelInfo,
		provider.EventRefreshReuse:     slog.LevelWarn,
		provider.EventCodeReuse:        slog.LevelWarn,
		provider.EventBindingMismatch:  slog.LevelWarn,
		provider.EventThrottled:        slog.LevelWarn,
		provider.EventClientAuthFailed: slog.LevelWarn,
		provider.EventUserAuthFailed:   slog.LevelWarn,
	} {
		assert.Equal(t, want, provider.Event{Type: typ}.Level(), typ)
	}
}

// TestEventThrottledReportsTheLongestWait checks that the EventThrottled
// of a failure that leaves both keys throttled, or only one, carries the
// longest wait of the keys, whichever key it is: that is how long the
// client is refused.
func TestEventThrottledReportsTheLongestWait(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ip, user storage.Rate
		want     time.Duration
	}{
		{"the per-IP key waits longer", storage.Rate{Burst: 1, Every: 2 * time.Minute}, storage.Rate{Burst: 1, Every: time.Minute}, 2 * time.Minute},
		{"the per-(username, IP) key waits longer", storage.Rate{Burst: 1, Every: time.Minute}, storage.Rate{Burst: 1, Every: 2 * time.Minute}, 2 * time.Minute},
		{"only the per-IP key is throttled", storage.Rate{Burst: 1, Every: 10 * time.Second}, storage.Rate{Burst: 5, Every: time.Minute}, 10 * time.Second},
		{"only the per-(username, IP) key is throttled", storage.Rate{Burst: 5, Every: 10 * time.Second}, storage.Rate{Burst: 1, Every: time.Minute}, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := &eventLog{}
			e := newEnv(t, func(c *provider.Config) {
				c.IPRate, c.UserRate = tc.ip, tc.user
				c.Events = events.hook
			})
			assertError(t, e.do(req{form: wrongPassword(), basic: conf}), 400, "invalid_grant")
			got := events.take()
			require.Len(t, got, 2, "the failure, then the throttling")
			assert.Equal(t, provider.Event{Type: provider.EventThrottled, Time: e.clock.Now(), ClientID: "conf",
				IP: netip.MustParseAddr("192.0.2.1"), Reason: "invalid username or password", RetryAfter: tc.want}, got[1])
		})
	}
}

// eventCtxKey is a context key of TestEventsHookContextOutlivesTheRequest.
type eventCtxKey struct{}

// The Events hook gets the request's context values without its
// cancellation: an event of a request whose client has gone happened
// all the same, and a hook that sends it on must not drop it.
func TestEventsHookContextOutlivesTheRequest(t *testing.T) {
	type seen struct {
		err   error
		value any
	}
	var (
		mu  sync.Mutex
		got []seen
	)
	e := newEnv(t, func(c *provider.Config) {
		c.Events = func(ctx context.Context, ev provider.Event) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, seen{ctx.Err(), ctx.Value(eventCtxKey{})})
		}
	})
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), eventCtxKey{}, "request-value"))
	cancel() // the client went away
	w := e.do(req{form: password(), basic: []string{"conf", "wrong-secret"}, ctx: ctx})
	assertError(t, w, 401, "invalid_client")
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, got, "client_auth_failed reported")
	for _, s := range got {
		assert.NoError(t, s.err)
		assert.Equal(t, "request-value", s.value)
	}
}

// With an Events hook, events go to the hook alone: Config.Logger, which
// then logs only the hook's panics, records none of them.
func TestEventsHookReplacesTheLog(t *testing.T) {
	var buf providertest.LockedBuffer
	events := &eventLog{}
	e := newEnv(t, func(c *provider.Config) {
		c.Events = events.hook
		c.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	})
	e.issue(t)
	assertError(t, e.do(req{form: password(), basic: []string{"conf", otherSecret}}), 401, "invalid_client")
	got := events.take()
	require.Len(t, got, 2)
	assert.Equal(t, provider.EventTokenIssued, got[0].Type)
	assert.Equal(t, provider.EventClientAuthFailed, got[1].Type)
	assert.Empty(t, buf.String())
}

// reuseNaming is a token store whose reuse error names what rename makes
// of the grant the store named: the provider must take a user only from
// an error that names the grant presented, of the client presenting it.
type reuseNaming struct {
	storage.TokenStore
	rename func(storage.ReuseError) error
}

func (s reuseNaming) ExchangeToken(ctx context.Context, x storage.Exchange) (*storage.Grant, error) {
	g, err := s.TokenStore.ExchangeToken(ctx, x)
	if re, ok := errors.AsType[*storage.ReuseError](err); ok {
		return g, s.rename(*re)
	}
	return g, err
}

func TestReuseEventUserOnlyFromItsGrant(t *testing.T) {
	for name, rename := range map[string]func(storage.ReuseError) error{
		"the bare sentinel": func(storage.ReuseError) error { return storage.ErrTokenReused },
		"another grant": func(re storage.ReuseError) error {
			re.GrantID += "x"
			return &re
		},
		"another client": func(re storage.ReuseError) error {
			re.ClientID = "other"
			return &re
		},
		"a typed nil": func(storage.ReuseError) error { return (*storage.ReuseError)(nil) },
	} {
		t.Run(name, func(t *testing.T) {
			events := &eventLog{}
			e := newEnv(t, func(c *provider.Config) {
				c.Events = events.hook
				c.Tokens = reuseNaming{TokenStore: c.Tokens, rename: rename}
			})
			m := e.issue(t)
			refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}}
			assertToken(t, e.do(req{form: refresh, basic: conf}))
			_ = events.take()
			assertError(t, e.do(req{form: refresh, basic: conf}), 400, "invalid_grant")
			got := events.take()
			require.Len(t, got, 1)
			assert.Equal(t, provider.EventRefreshReuse, got[0].Type)
			assert.Empty(t, got[0].UserID, "no user from an error that does not name the grant")
		})
	}
}
