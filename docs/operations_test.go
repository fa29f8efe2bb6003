package docs_test

import (
	"context"
	"expvar"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// eventMetrics counts the provider's security events by type and logs the
// ones worth a look (Warn and above).
type eventMetrics struct {
	counts *expvar.Map
	log    *slog.Logger
}

func newEventMetrics(log *slog.Logger) *eventMetrics {
	return &eventMetrics{counts: new(expvar.Map).Init(), log: log}
}

// record is the provider's Config.Events hook: quick, safe for concurrent
// use, and it sees identifiers only, never a token or password.
func (m *eventMetrics) record(ctx context.Context, e provider.Event) {
	m.counts.Add(string(e.Type), 1)
	if e.Level() >= slog.LevelWarn {
		m.log.LogAttrs(ctx, e.Level(), "oauth2 "+string(e.Type), e.Attrs()...)
	}
}

// Example_eventMetrics counts events with expvar (served at /debug/vars by
// importing expvar) and logs the warnings.
func Example_eventMetrics() {
	ctx := context.Background()
	store := memory.New(memory.Config{})
	err := store.CreateClient(ctx, &storage.Client{
		ID:         "my-app",
		SecretHash: storage.HashGeneratedSecret("my-app-secret-0123456789abcdef0123456789"),
		GrantTypes: []string{storage.GrantPassword},
	})
	if err != nil {
		log.Fatal(err)
	}
	var users authcheck.Static
	if err := users.Add("johndoe", "foobar42", "user-1"); err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "ip" {
				return slog.Attr{} // left out to keep the output stable
			}
			return a
		},
	}))

	metrics := newEventMetrics(logger)
	p, err := provider.New(provider.Config{
		Clients: store,
		Tokens:  store,
		Users:   &users,
		Events:  metrics.record,
	})
	if err != nil {
		log.Fatal(err)
	}
	expvar.Publish("oauth2_events", metrics.counts) // served at GET /debug/vars

	srv := httptest.NewTLSServer(p.TokenHandler())
	defer srv.Close()
	for _, password := range []string{"wrong", "foobar42"} {
		form := url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {password}}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("my-app", "my-app-secret-0123456789abcdef0123456789")
		resp, err := srv.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
	}
	fmt.Println(metrics.counts.String())
	// Output:
	// level=WARN msg="oauth2 user_auth_failed" event=user_auth_failed client_id=my-app reason="invalid username or password"
	// {"token_issued": 1, "user_auth_failed": 1}
}
