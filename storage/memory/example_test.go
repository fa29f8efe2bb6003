package memory_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// One Store is both the provider's client store and its token store; a
// Limiter counts failed passwords. (Left nil, Config.Limiter is such a
// Limiter already; it is named here to show where a shared one goes.)
func ExampleNew() {
	store := memory.New(memory.Config{})
	err := store.CreateClient(context.Background(), &storage.Client{
		ID:         "cli",
		Public:     true,
		GrantTypes: []string{storage.GrantPassword},
		Scopes:     []string{"read"},
	})
	if err != nil {
		log.Fatal(err)
	}
	var users authcheck.Static
	if err := users.Add("johndoe", "foobar42", "user-1"); err != nil {
		log.Fatal(err)
	}
	p, err := provider.New(provider.Config{
		Clients: store,
		Tokens:  store,
		Users:   &users,
		Limiter: memory.NewLimiter(memory.LimiterConfig{}),
	})
	if err != nil {
		log.Fatal(err)
	}

	form := url.Values{"grant_type": {"password"}, "client_id": {"cli"}, "username": {"johndoe"}, "password": {"foobar42"}}
	// An https URL: the request counts as arriving over TLS, which the
	// provider requires by default.
	r := httptest.NewRequest(http.MethodPost, "https://auth.example/oauth2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	p.TokenHandler().ServeHTTP(w, r)
	fmt.Println(w.Code, strings.Contains(w.Body.String(), `"token_type":"Bearer"`))
	// Output:
	// 200 true
}

// A Limiter is a token bucket per key: Burst failures are free, then
// each one costs Every. The clock is fixed here so that the waits print
// the same on every run.
func ExampleNewLimiter() {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	l := memory.NewLimiter(memory.LimiterConfig{Now: func() time.Time { return now }})
	rate := storage.Rate{Burst: 3, Every: time.Minute}

	for range 3 {
		wait, err := l.Fail(ctx, "johndoe|192.0.2.1", rate)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("after a failure, wait", wait)
	}
	now = now.Add(time.Minute)
	wait, _ := l.Throttled(ctx, "johndoe|192.0.2.1", rate)
	fmt.Println("a minute later, wait", wait)
	// Output:
	// after a failure, wait 0s
	// after a failure, wait 0s
	// after a failure, wait 1m0s
	// a minute later, wait 0s
}
