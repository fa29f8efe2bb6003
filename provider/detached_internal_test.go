package provider

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// hungRevokes is a token store whose RevokeGrant answers only when its
// context ends, as a store that stopped answering does.
type hungRevokes struct{ storage.TokenStore }

func (hungRevokes) RevokeGrant(ctx context.Context, _ string) error {
	<-ctx.Done()
	return ctx.Err()
}

// A revocation that outlives the request's context (revokeDetached) is
// still bounded: a hung store fails it after detachedTimeout rather than
// holding the request for ever.
func TestDetachedRevocationIsBounded(t *testing.T) {
	old := detachedTimeout
	detachedTimeout = 50 * time.Millisecond
	t.Cleanup(func() { detachedTimeout = old })
	st := memory.New(memory.Config{})
	p, err := New(Config{Clients: st, Tokens: hungRevokes{st}, AllowInsecureHTTP: true})
	require.NoError(t, err)
	raw, _, err := p.CreateSession(httptest.NewRequest("GET", "/", nil), "user-1", nil, time.Hour)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client has gone: the revocation goes on, bounded
	done := make(chan error, 1)
	go func() { done <- p.EndSession(ctx, raw) }()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(10 * time.Second): // without the bound, never
		t.Fatal("EndSession still waits on a store that does not answer")
	}
}

// hungRefunds is a limiter whose Refund answers only when its context
// ends, as a remote limiter that stopped answering does.
type hungRefunds struct{ storage.Limiter }

func (hungRefunds) Refund(ctx context.Context, _ string, _ storage.Rate) error {
	<-ctx.Done()
	return ctx.Err()
}

// The refund of a successful attempt's reserved failures outlives the
// request's context but is bounded too: a password grant on a limiter that
// stops answering still ends, within detachedTimeout, with its tokens.
func TestThrottleRefundIsBounded(t *testing.T) {
	old := detachedTimeout
	detachedTimeout = 50 * time.Millisecond
	t.Cleanup(func() { detachedTimeout = old })
	st := memory.New(memory.Config{})
	require.NoError(t, st.CreateClient(context.Background(), &storage.Client{
		ID: "app", SecretHash: storage.HashGeneratedSecret("app-secret"),
		GrantTypes: []string{"password"}, CreatedAt: time.Now(),
	}))
	users := authcheck.Func(func(_ context.Context, username, password string) (string, error) {
		if username == "alice" && password == "pw" {
			return "user-alice", nil
		}
		return "", authcheck.ErrInvalidCredentials
	})
	p, err := New(Config{Clients: st, Tokens: st, Users: users, AllowInsecureHTTP: true,
		Limiter: hungRefunds{memory.NewLimiter(memory.LimiterConfig{})}})
	require.NoError(t, err)

	r := httptest.NewRequest("POST", "/token", strings.NewReader("grant_type=password&username=alice&password=pw"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("app", "app-secret")
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { p.TokenHandler().ServeHTTP(w, r); close(done) }()
	select {
	case <-done:
		assert.Equal(t, 200, w.Code, w.Body.String())
		assert.Contains(t, w.Body.String(), `"access_token"`)
	case <-time.After(10 * time.Second): // without the bound, never
		t.Fatal("the password grant still waits on a limiter that does not answer")
	}
}

// outliving (the revocation endpoint's lookups) goes on when its
// parent ends, for detachedTimeout more, and at once ends with its
// CancelFunc; while the parent lives, no bound of its own applies.
func TestOutlivingIsBounded(t *testing.T) {
	old := detachedTimeout
	detachedTimeout = 50 * time.Millisecond
	t.Cleanup(func() { detachedTimeout = old })

	parent, end := context.WithCancel(context.WithValue(context.Background(), ctxValueKey{}, "v"))
	ctx, cancel := outliving(parent)
	defer cancel()
	assert.Equal(t, "v", ctx.Value(ctxValueKey{}))
	select {
	case <-ctx.Done():
		t.Fatal("ended while its parent lives")
	case <-time.After(3 * detachedTimeout):
	}
	end()
	assert.NoError(t, ctx.Err(), "ended with its parent")
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second): // without the bound, never
		t.Fatal("still going detachedTimeout after its parent ended")
	}

	ctx, cancel = outliving(context.Background())
	cancel()
	assert.Error(t, ctx.Err(), "its CancelFunc ends it")
}

type ctxValueKey struct{}

// hungRevocation is a token store whose revocations and exchanges answer
// only when their context ends.
type hungRevocation struct{ hungRevokes }

func (hungRevocation) ExchangeToken(ctx context.Context, _ storage.Exchange) (*storage.Grant, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// The revocation endpoint's store calls that revoke (a live token's
// RevokeGrant, a spent refresh token's exchange) have a bound of their
// own, detachedTimeout, even while the client waits: a store that stops
// answering is 503 then, not a request held for ever.
func TestRevocationIsBoundedWhileTheClientWaits(t *testing.T) {
	old := detachedTimeout
	detachedTimeout = 50 * time.Millisecond
	t.Cleanup(func() { detachedTimeout = old })
	st := memory.New(memory.Config{})
	ctx := context.Background()
	require.NoError(t, st.CreateClient(ctx, &storage.Client{
		ID: "app", Public: true, GrantTypes: []string{"password", "refresh_token"}, CreatedAt: time.Now(),
	}))
	p, err := New(Config{Clients: st, Tokens: hungRevocation{hungRevokes{st}}, AllowInsecureHTTP: true})
	require.NoError(t, err)
	g1, err := token.NewGrantID()
	require.NoError(t, err)
	g2, err := token.NewGrantID()
	require.NoError(t, err)
	live, err := mint(storage.KindAccess, g1, time.Now(), time.Hour, nil)
	require.NoError(t, err)
	require.NoError(t, st.CreateGrant(ctx, &storage.Grant{ID: g1, ClientID: "app", UserID: "u",
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}, live.record))
	unknown, err := mint(storage.KindRefresh, g2, time.Now(), time.Hour, nil) // looked for as a spent one
	require.NoError(t, err)

	for name, raw := range map[string]string{"a live access token": live.raw, "a refresh token not live": unknown.raw} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/revoke", strings.NewReader("client_id=app&token="+raw))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			done := make(chan struct{})
			go func() { p.RevokeHandler().ServeHTTP(w, r); close(done) }()
			select {
			case <-done:
				assert.Equal(t, 503, w.Code, w.Body.String())
			case <-time.After(10 * time.Second): // without the bound, never
				t.Fatal("the revocation still waits on a store that does not answer")
			}
		})
	}
}
