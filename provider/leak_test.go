package provider_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/providertest"
	"github.com/oauth2provider/oauth2provider/provider"
)

// Recognisable secrets the leak test sends through every failure path it
// can reach.
const (
	leakPassword     = "SECRET-PW-123"
	leakClientSecret = "SECRET-CS-0123456789abcdefghijklmnopqrstuv"
	leakRefresh      = "SECRET-RT-0123456789"
	leakToken        = "SECRET-TOK-0123456789"
	leakCode         = "SECRET-CODE-0123456789"
	leakVerifier     = "SECRET-VERIFIER-0123456789abcdefghijklmnopqrstuvwxyz"
)

// leakRecorder collects everything that must hold no secret: log records
// (Config.Logger), error response bodies and headers, error texts.
type leakRecorder struct {
	providertest.Leaks // what else was recorded: bodies, headers, errors
	log                providertest.LockedBuffer
	logs               bool     // log was given to the provider: it must hold records
	secrets            []string // besides the SECRET- ones: live tokens, real secrets
}

func (l *leakRecorder) logger() *slog.Logger {
	l.logs = true
	return slog.New(slog.NewTextHandler(&l.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (l *leakRecorder) err(name string, err error) {
	if err != nil {
		l.Seen = append(l.Seen, name+": "+err.Error()+" / "+fmt.Sprintf("%+v", err))
	}
}

// check fails t for each secret found in the log or what was recorded,
// and for a log that recorded nothing (which would check nothing).
func (l *leakRecorder) check(t *testing.T) {
	t.Helper()
	log := l.log.String()
	if l.logs {
		require.NotEmpty(t, log, "the flows logged nothing: the check would check nothing")
	}
	secrets := append([]string{"SECRET-", base64.StdEncoding.EncodeToString([]byte("conf:" + leakClientSecret))[:12]}, l.secrets...)
	l.Leaks.Check(t, log, secrets)
}

// TestNoSecretInLogsErrorsOrResponses drives the provider's failure paths
// with recognisable passwords, client secrets and tokens, and checks that
// none of them (nor a live token or a real secret) appears in a log record
// of Config.Logger, an error response (body and headers), or the text of
// an error the provider returns to the app, which may log it.
func TestNoSecretInLogsErrorsOrResponses(t *testing.T) {
	// "Default" logs to slog's default logger, which TestMain captures and
	// checks (leaks) when the whole package runs.
	for _, hook := range []string{"Logger", "LogEvents", "Default"} {
		t.Run(hook, func(t *testing.T) {
			l := &leakRecorder{secrets: []string{confSecret, otherSecret, "foobar42"}}
			mutate := func(c *provider.Config) {
				switch hook {
				case "Logger":
					c.Logger = l.logger()
				case "LogEvents":
					c.Events = provider.LogEvents(l.logger())
				}
				c.BindingKey = bindingKey
			}
			e := newEnv(t, mutate)
			do := func(name string, rq req) *httptest.ResponseRecorder {
				t.Helper()
				w := e.do(rq)
				if w.Code != http.StatusOK {
					l.Response(name, w)
				} else {
					w.Body.Reset() // a token response: headers only
					l.Response(name, w)
				}
				return w
			}

			// Live tokens, which must appear only in their token response.
			m := e.issue(t, "scope", "read")
			at, rt := m["access_token"].(string), m["refresh_token"].(string)
			other := assertToken(t, e.do(req{form: password(), basic: []string{"other", otherSecret}}))
			otherRT := other["refresh_token"].(string)
			l.secrets = append(l.secrets, at, rt, other["access_token"].(string), otherRT)

			// Users: wrong password, a password in the username field,
			// malformed and oversized input, an outage.
			do("wrong password", req{form: password("password", leakPassword), basic: conf})
			do("password as username", req{form: password("username", leakPassword, "password", "x"), basic: conf})
			do("long username", req{form: password("username", strings.Repeat(leakPassword, 200)), basic: conf})
			do("malformed password", req{form: password("password", leakPassword+"\x00"), basic: conf})
			do("user db down", req{form: password("username", "down", "password", leakPassword), basic: conf})
			do("password in the query", req{form: password(), basic: conf, query: "password=" + leakPassword})
			do("repeated password", req{rawBody: password().Encode() + "&password=" + leakPassword, basic: conf})
			// Throttled.
			for range provider.DefaultUserRate.Burst + 1 {
				do("throttled", req{form: password("password", leakPassword), basic: conf, remoteAddr: "192.0.2.9:1"})
			}

			// Clients: a wrong secret by Basic and in the body, a secret
			// in the client_id, malformed Basic, a secret of a person.
			do("wrong secret basic", req{form: password(), basic: []string{"conf", leakClientSecret}})
			do("wrong secret post", req{form: password("client_id", "conf", "client_secret", leakClientSecret)})
			do("secret as client id", req{form: password(), basic: []string{leakClientSecret, "x"}})
			do("secret as client id post", req{form: password("client_id", leakClientSecret)})
			do("malformed basic", req{form: password(), header: http.Header{"Authorization": {"Basic " + leakClientSecret}}})
			do("bearer at the token endpoint", req{form: password(), header: http.Header{"Authorization": {"Bearer " + leakToken}}})
			for range 12 {
				do("human secret", req{form: password(), basic: []string{"human", leakClientSecret}})
			}
			do("secret in the query", req{form: password(), query: "client_secret=" + leakClientSecret})

			// Refresh tokens: malformed, another client's, a wrong user_id,
			// from another user agent (binding), reused.
			do("malformed refresh", req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {leakRefresh}}, basic: conf})
			do("other client's refresh", req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {otherRT}}, basic: conf})
			do("wrong user_id", req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "user_id": {leakPassword}}, basic: conf})
			do("binding mismatch", req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}},
				basic: conf, header: http.Header{"User-Agent": {"another browser"}}})
			do("reused refresh", req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basic: conf})
			do("bad code", req{form: url.Values{"grant_type": {"authorization_code"}, "code": {leakCode}, "code_verifier": {leakVerifier}}, basic: conf})

			// Revocation and introspection.
			serve := func(name string, h http.Handler, rq req) {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, rq.build())
				l.Response(name, w)
			}
			m2 := e.issue(t)
			l.secrets = append(l.secrets, m2["access_token"].(string), m2["refresh_token"].(string))
			serve("revoke other's", e.p.RevokeHandler(), req{form: url.Values{"token": {m2["access_token"].(string)}}, basic: []string{"other", otherSecret}})
			serve("revoke unknown", e.p.RevokeHandler(), req{form: url.Values{"token": {leakToken}}, basic: []string{"conf", leakClientSecret}})
			serve("introspect wrong secret", e.p.IntrospectHandler(), req{form: url.Values{"token": {leakToken}}, basic: []string{"conf", leakClientSecret}})
			serve("introspect unknown", e.p.IntrospectHandler(), req{form: url.Values{"token": {leakToken}}, basic: conf})
			serve("revoke in the query", e.p.RevokeHandler(), req{form: url.Values{}, basic: conf, query: "token=" + leakToken})

			// Validation: a bound token from another user agent, then
			// with the store down; sessions alike.
			r := httptest.NewRequest(http.MethodGet, "https://api.example.com/", nil)
			r.Header.Set("User-Agent", "another browser")
			_, err := e.p.ValidateAccessToken(r, m2["access_token"].(string))
			l.err("validate bound", err)
			_, err = e.p.ValidateAccessToken(r, leakToken)
			l.err("validate malformed", err)
			_, err = e.p.ValidateSession(r, leakToken)
			l.err("validate session", err)
			l.err("end session", e.p.EndSession(context.Background(), leakToken))
			_, err = e.p.AuthenticateUser(r, "johndoe", leakPassword)
			l.err("authenticate", err)
			_, err = e.p.AuthenticateUser(r, "down", leakPassword)
			l.err("authenticate outage", err)

			e.store.setFail(errors.New("store: connection refused"))
			m3 := m2["refresh_token"].(string)
			do("store down password", req{form: password("password", leakPassword), basic: conf})
			do("store down refresh", req{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m3}}, basic: conf})
			_, err = e.p.ValidateAccessToken(r, m2["access_token"].(string))
			l.err("validate outage", err)
			_, _, err = e.p.CreateSession(r, "user-1", nil, 3600e9)
			l.err("create session outage", err)
			e.store.setFail(nil)

			l.check(t)
		})
	}
}

// TestNoSecretLoggedWhenTheCheckerPanics: a user database that panics
// (with the request's values in its panic, as a careless one might) is
// the app's; what the provider logs around it holds no password.
func TestNoSecretLoggedWhenTheCheckerPanics(t *testing.T) {
	l := &leakRecorder{}
	e := newEnv(t, func(c *provider.Config) {
		c.Logger = l.logger()
		c.Users = authcheck.Func(func(ctx context.Context, username, password string) (string, error) {
			panic("user db exploded")
		})
	})
	// A wrong client secret, so that the log holds something to check.
	l.Response("wrong secret", e.do(req{form: password("password", leakPassword), basic: []string{"conf", leakClientSecret}}))
	for range provider.DefaultUserRate.Burst + 1 {
		func() {
			defer func() { _ = recover() }()
			w := e.do(req{form: password("password", leakPassword), basic: conf, remoteAddr: "192.0.2.7:1"})
			l.Response("panicking checker", w)
		}()
	}
	l.check(t)
}

// TestAuthorizeKeepsConsentTokensAndCodesOutOfURLsAndLogs: the consent
// form's token travels only in the form's POST body; no redirect (to the
// client, to the login page) and no log record carries it, and a code is
// in the one redirect that delivers it, never in a log or an error.
func TestAuthorizeKeepsConsentTokensAndCodesOutOfURLsAndLogs(t *testing.T) {
	l := &leakRecorder{}
	e := newAuthzEnv(t, func(c *provider.Config) { c.Logger = l.logger() }, nil)
	w := e.get(spaParams(), "user-1")
	fields := consentFields(t, w)
	consent := fields.Get("consent_token")
	l.secrets = append(l.secrets, consent)

	// Denied, expired session, forged, and a bad decision: none puts the
	// consent token anywhere but the form.
	l.Response("deny", e.decide(fields, "user-1", "deny"))
	l.Response("signed out", e.decide(fields, "", "allow"))
	l.Response("other user", e.decide(fields, "user-2", "allow"))
	forged := with(url.Values{}, "consent_token", "SECRET-CONSENT")
	for k, vs := range fields {
		if k != "consent_token" {
			forged[k] = vs
		}
	}
	l.Response("forged", e.decide(forged, "user-1", "allow"))
	l.Response("cross-origin", e.authorize(azReq{method: http.MethodPost, form: fields, user: "user-1",
		header: http.Header{"Sec-Fetch-Site": {"cross-site"}}}))
	// (A consent page shown again holds the token again: its form is
	// where the token belongs.)
	l.Response("in the query, signed out", e.authorize(azReq{query: spaParams("consent_token", consent).Encode()}))

	// A code reused at the token endpoint: the event names the grant, not
	// the code, and the error holds neither.
	code := e.code(t, spaParams(), "user-1")
	w = e.do(req{form: exchange(code)})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	l.Response("reused code", e.do(req{form: exchange(code)}))
	require.Contains(t, l.log.String(), "code_reuse_detected")
	l.secrets = append(l.secrets, code)
	l.check(t)
}
