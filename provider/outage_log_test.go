package provider_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/provider"
)

// A 503 says only "temporarily unavailable" on the wire; its cause (the
// AuthChecker's or the store's error) goes to Config.Logger at Error, or
// a developer whose users query fails, or an operator whose store is
// down, has nothing to tell why every login fails.
func TestOutageCauseIsLogged(t *testing.T) {
	var log providertest.LockedBuffer
	e := newEnv(t, func(c *provider.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	conf := []string{"conf", confSecret}

	w := e.do(req{form: password("username", "down"), basic: conf})
	assertError(t, w, http.StatusServiceUnavailable, provider.CodeTemporarilyUnavailable)
	assert.Contains(t, log.String(), "level=ERROR")
	assert.Contains(t, log.String(), errUserDBDown.Error(), "the user database's error")
	assert.Contains(t, log.String(), "path=/oauth2/token")

	storeDown := errors.New("store: connection refused")
	e.store.setFail(storeDown)
	defer e.store.setFail(nil)
	for _, h := range []http.Handler{e.p.RevokeHandler(), e.p.IntrospectHandler()} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req{form: url.Values{"token": {"oat_x"}}, basic: conf}.build())
		assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	}
	assert.Equal(t, 2, strings.Count(log.String(), storeDown.Error()),
		"one record for each 503, of the revocation and of the introspection:\n%s", log.String())
}

// The authorization endpoint logs the cause of its outages too: a 503
// error page (the client store down) and a temporarily_unavailable
// redirect (the sessions down).
func TestAuthorizeOutageCauseIsLogged(t *testing.T) {
	var log providertest.LockedBuffer
	se := &sessionEnv{}
	se.azEnv = newAuthzEnv(t, func(c *provider.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	}, func(c *provider.AuthorizeConfig) {
		c.CurrentUser = nil
		c.SignedInUser = func(*http.Request) (string, error) { return "", errSessionsDown }
	})

	w := se.get(spaParams(), "")
	assert.Equal(t, http.StatusFound, w.Code)
	assert.Contains(t, log.String(), errSessionsDown.Error())

	clientsDown := errors.New("clients: db down")
	se.store.setFail(clientsDown)
	defer se.store.setFail(nil)
	w = se.get(spaParams(), "")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Contains(t, log.String(), clientsDown.Error())
	assert.Equal(t, 2, strings.Count(log.String(), "level=ERROR"), log.String())
}

// structuredErr is an error whose fields hold more than its text, as
// pgx's ConnectError keeps the whole connection config, password
// included.
type structuredErr struct{ Password string }

func (structuredErr) Error() string { return "users: connect: refused" }

// attrKinds is a slog.Handler that records the kind of every attribute
// value it is given, before any formatting.
type attrKinds struct{ kinds map[string]slog.Kind }

func (attrKinds) Enabled(context.Context, slog.Level) bool { return true }
func (h attrKinds) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool { h.kinds[a.Key] = a.Value.Kind(); return true })
	return nil
}
func (h attrKinds) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h attrKinds) WithGroup(string) slog.Handler      { return h }

// The cause is logged as its text, never as the error value: a handler
// that renders values field by field (JSON of structs, a tracing
// exporter) would otherwise print what the text leaves out.
func TestOutageCauseIsLoggedAsText(t *testing.T) {
	h := attrKinds{kinds: map[string]slog.Kind{}}
	e := newEnv(t, func(c *provider.Config) { c.Logger = slog.New(h) })
	e.p.LogOutage(httptest.NewRequest(http.MethodPost, "/oauth2/token", nil), structuredErr{Password: "hunter2"})
	assert.Equal(t, slog.KindString, h.kinds["err"], "the cause's kind")
}

// A 503 answered because the client went away (its request's context
// canceled) is logged at Debug, not Error: nothing failed but the
// client's patience.
func TestOutageOfAGoneClientIsLoggedAtDebug(t *testing.T) {
	var log providertest.LockedBuffer
	e := newEnv(t, func(c *provider.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := e.do(req{form: password("username", "slow"), basic: conf, ctx: ctx})
	assertError(t, w, http.StatusServiceUnavailable, provider.CodeTemporarilyUnavailable)
	assert.Contains(t, log.String(), `level=DEBUG msg="oauth2: temporarily unavailable"`)
	assert.Contains(t, log.String(), "err=\"context canceled\"")
	assert.NotContains(t, log.String(), "level=ERROR")
}
