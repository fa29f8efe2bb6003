package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2provider/oauth2provider/internal/loopback"
)

// config is what the client needs to know about the server and the user.
type config struct {
	Server       string // base URL, e.g. http://127.0.0.1:8080
	ClientID     string
	ClientSecret string
	Username     string
	Password     string
	Scope        string // space-separated
	Calls        int
	Pause        time.Duration
}

// oauthConfig is the golang.org/x/oauth2 configuration for an
// oauth2provider server at base.
func oauthConfig(base, clientID, clientSecret string, scopes []string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Endpoint: oauth2.Endpoint{
			TokenURL:  base + "/oauth2/token",
			AuthStyle: oauth2.AuthStyleInHeader, // HTTP Basic, RFC 6749 §2.3.1
		},
		Scopes: scopes,
	}
}

// session is a logged-in user: an http.Client that sends the access token
// and renews it with the refresh token when it is about to expire.
type session struct {
	conf   *oauth2.Config
	base   string
	src    *savingSource
	Client *http.Client
}

// login gets tokens with the password grant and returns a session that
// refreshes them by itself. onRefresh, when not nil, is called with each
// new token pair: refresh tokens rotate, so an app that keeps tokens
// across runs must save the new refresh token every time (the old one is
// spent, and presenting it again revokes the whole grant).
func login(ctx context.Context, conf *oauth2.Config, base, username, password string, onRefresh func(*oauth2.Token)) (*session, error) {
	tok, err := conf.PasswordCredentialsToken(ctx, username, password)
	if err != nil {
		return nil, fmt.Errorf("password grant: %w", describe(err))
	}
	src := &savingSource{
		src:       conf.TokenSource(ctx, tok), // refreshes with ctx: keep it alive as long as the session
		last:      tok,
		onRefresh: onRefresh,
	}
	return &session{conf: conf, base: base, src: src, Client: oauth2.NewClient(ctx, src)}, nil
}

// UserID returns the user_id the token response carried (the Pyramid
// seed's field).
func (s *session) UserID() string {
	id, _ := s.src.current().Extra("user_id").(string)
	return id
}

// logout revokes the session's grant at the revocation endpoint (RFC 7009):
// revoking the refresh token ends the access token too, so a stolen copy
// of either stops working at once.
func (s *session) logout(ctx context.Context) error {
	tok := s.src.current()
	return revoke(ctx, s.base+"/oauth2/revoke", s.conf.ClientID, s.conf.ClientSecret, tok.RefreshToken, "refresh_token")
}

// revoke posts token to an RFC 7009 revocation endpoint with the client's
// credentials in HTTP Basic.
func revoke(ctx context.Context, endpoint, clientID, clientSecret, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var e struct {
		Code string `json:"error"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&e)
	return fmt.Errorf("revoke: %s %s", resp.Status, e.Code)
}

// savingSource is an oauth2.TokenSource that reports each new token to
// onRefresh and remembers the latest, for logout.
type savingSource struct {
	src       oauth2.TokenSource
	onRefresh func(*oauth2.Token)

	mu   sync.Mutex
	last *oauth2.Token
}

// Token implements oauth2.TokenSource. It is safe for concurrent use.
func (s *savingSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, err := s.src.Token()
	if err != nil {
		return nil, describe(err)
	}
	if tok.AccessToken != s.last.AccessToken {
		s.last = tok
		if s.onRefresh != nil {
			s.onRefresh(tok)
		}
	}
	return tok, nil
}

func (s *savingSource) current() *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// describe shortens an x/oauth2 error to the OAuth error code and
// description (the body of a token response is never printed: it may hold
// a token).
func describe(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		if re.ErrorDescription != "" {
			return fmt.Errorf("%s: %s", re.ErrorCode, re.ErrorDescription)
		}
		return errors.New(re.ErrorCode)
	}
	return err
}

// me is the JSON answer of the quickstart's GET /api/me.
type me struct {
	UserID   string `json:"user_id"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	Auth     string `json:"auth"`
}

// callMe calls GET /api/me with the session's client.
func (s *session) callMe(ctx context.Context) (me, error) {
	var m me
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/me", nil)
	if err != nil {
		return m, err
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return m, err // a failed refresh shows up here, as *url.Error wrapping the OAuth error
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return m, fmt.Errorf("GET /api/me: %s (%s)", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&m)
	return m, err
}

// run logs in, calls the API cfg.Calls times and logs out, printing what
// happens (never a token) to out.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if err := checkServer(cfg.Server); err != nil {
		return err
	}
	conf := oauthConfig(cfg.Server, cfg.ClientID, cfg.ClientSecret, strings.Fields(cfg.Scope))
	onRefresh := func(t *oauth2.Token) {
		// A real app saves t here (t.RefreshToken has rotated).
		fmt.Fprintf(out, "refreshed: new access token, valid until %s\n", t.Expiry.Format(time.TimeOnly))
	}
	s, err := login(ctx, conf, cfg.Server, cfg.Username, cfg.Password, onRefresh)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "logged in as user %s\n", s.UserID())

	for i := range cfg.Calls {
		if i > 0 && cfg.Pause > 0 {
			select {
			case <-time.After(cfg.Pause):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		m, err := s.callMe(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "GET /api/me: user_id=%s client_id=%s scope=%q auth=%s\n", m.UserID, m.ClientID, m.Scope, m.Auth)
	}

	if err := s.logout(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "logged out: the grant is revoked")
	return nil
}

// checkServer refuses a server the password and client secret would reach
// in clear over the network: plain http is for a server on this machine.
func checkServer(server string) error {
	return loopback.CheckURL("-server", server, "the password and client secret")
}
