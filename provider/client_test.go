package provider_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// TestGoOAuth2Client runs the password grant and a refresh with the
// golang.org/x/oauth2 client, with both client authentication styles.
func TestGoOAuth2Client(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		t.Run(map[oauth2.AuthStyle]string{oauth2.AuthStyleInHeader: "header", oauth2.AuthStyleInParams: "params"}[style], func(t *testing.T) {
			e := newEnv(t, func(c *provider.Config) { c.AllowInsecureHTTP = true })
			srv := httptest.NewServer(e.h)
			t.Cleanup(srv.Close)
			cfg := &oauth2.Config{
				ClientID:     weirdID, // exercises the form-urlencoding of Basic
				ClientSecret: weirdSecret,
				Endpoint:     oauth2.Endpoint{TokenURL: srv.URL + "/oauth2/token", AuthStyle: style},
				Scopes:       []string{"profile"},
			}
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
			tok, err := cfg.PasswordCredentialsToken(ctx, "johndoe", "foobar42")
			require.NoError(t, err)
			assert.Equal(t, "Bearer", tok.Type())
			assert.Equal(t, "user-1", tok.Extra("user_id"))
			assert.Equal(t, "profile", tok.Extra("scope"))
			assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)
			require.NotEmpty(t, tok.RefreshToken)

			_, err = cfg.PasswordCredentialsToken(ctx, "johndoe", "wrong")
			var rerr *oauth2.RetrieveError
			require.ErrorAs(t, err, &rerr)
			assert.Equal(t, "invalid_grant", rerr.ErrorCode)

			// The access token expires; the TokenSource refreshes it.
			e.clock.Advance(time.Hour)
			_, err = e.validate(tok.AccessToken)
			require.ErrorIs(t, err, provider.ErrInvalidToken)
			tok.Expiry = time.Now().Add(-time.Second)
			fresh, err := cfg.TokenSource(ctx, tok).Token()
			require.NoError(t, err)
			assert.NotEqual(t, tok.AccessToken, fresh.AccessToken)
			assert.NotEqual(t, tok.RefreshToken, fresh.RefreshToken)
			ti, err := e.validate(fresh.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, "user-1", ti.Grant.UserID)
		})
	}
}

// TestConcurrentRefreshOfOneToken: of concurrent refreshes of one token
// over HTTP exactly one gets new tokens; the others are reuse.
func TestConcurrentRefreshOfOneToken(t *testing.T) {
	e := newEnv(t, func(c *provider.Config) { c.AllowInsecureHTTP = true })
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	rt := e.issue(t)["refresh_token"].(string)

	const n = 16
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(url.Values{
				"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()))
			if !assert.NoError(t, err) {
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", basicAuth(conf[0], conf[1]))
			resp, err := srv.Client().Do(req)
			if !assert.NoError(t, err) {
				return
			}
			_ = resp.Body.Close()
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, map[int]int{200: 1, 400: n - 1}, statuses)
}
