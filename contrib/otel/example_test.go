package oauthotel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Example wires the instrumentation into a provider at every hook: the
// events, the stores, the limiter, the token endpoint and the bearer
// policy of an API route. A ManualReader stands in for a real exporter
// (Prometheus, OTLP).
func Example() {
	reader := sdkmetric.NewManualReader()
	in, err := oauthotel.New(oauthotel.Config{
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
		// TracerProvider: nil means the global one.
	})
	if err != nil {
		log.Fatal(err)
	}

	store := memory.New(memory.Config{})
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		log.Fatal(err)
	}
	err = store.CreateClient(context.Background(), &storage.Client{
		ID: "demo-client", SecretHash: hash,
		GrantTypes: []string{storage.GrantClientCredentials},
		Scopes:     []string{"read"},
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := provider.New(provider.Config{
		Clients:           in.ClientStore("memory", store),
		Tokens:            in.TokenStore("memory", store),
		Limiter:           in.Limiter("memory", memory.NewLimiter(memory.LimiterConfig{})),
		AllowInsecureHTTP: true, // httptest serves plain HTTP
		// Metrics only; Events(nil) would also log each event to slog.
		Events: in.Events(func(context.Context, provider.Event) {}),
	})
	if err != nil {
		log.Fatal(err)
	}
	token := in.Handler(provider.DefaultTokenPath, p.TokenHandler())
	api := in.Policy("bearer", policy.Bearer(p))(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))

	var accessToken string
	for _, s := range []string{secret, "wrong-secret"} {
		req := httptest.NewRequest(http.MethodPost, provider.DefaultTokenPath,
			strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-client", s)
		rec := httptest.NewRecorder()
		token.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil {
				log.Fatal(err)
			}
			accessToken = tok.AccessToken
		}
	}
	for _, t := range []string{accessToken, "oat_bogus"} {
		req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+t)
		api.ServeHTTP(httptest.NewRecorder(), req)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch m.Name {
		case "oauth2.tokens.issued", "oauth2.requests.failed":
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				gt, _ := dp.Attributes.Value(oauthotel.AttrGrantType)
				code, _ := dp.Attributes.Value(oauthotel.AttrError)
				fmt.Println(m.Name, gt.AsString()+code.AsString(), dp.Value)
			}
		case "oauth2.validation.duration":
			for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				outcome, _ := dp.Attributes.Value(oauthotel.AttrOutcome)
				fmt.Println(m.Name, outcome.AsString(), dp.Count)
			}
		}
	}
	// Unordered output:
	// oauth2.tokens.issued client_credentials 1
	// oauth2.requests.failed invalid_client 1
	// oauth2.validation.duration pass 1
	// oauth2.validation.duration refused 1
}
