package oauthotel_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Example wires the instrumentation into a provider at every hook: the
// events, the stores, the limiter and the token endpoint. A ManualReader
// stands in for a real exporter (Prometheus, OTLP).
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

	for _, s := range []string{secret, "wrong-secret"} {
		req := httptest.NewRequest(http.MethodPost, provider.DefaultTokenPath,
			strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-client", s)
		token.ServeHTTP(httptest.NewRecorder(), req)
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
		}
	}
	// Unordered output:
	// oauth2.tokens.issued client_credentials 1
	// oauth2.requests.failed invalid_client 1
}
