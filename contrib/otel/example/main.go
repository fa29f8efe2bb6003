// Command example serves an OAuth 2.0 provider instrumented with
// OpenTelemetry and exposes its metrics at /metrics in the Prometheus
// exposition format, through the OpenTelemetry Prometheus exporter.
//
//	go run ./example -addr 127.0.0.1:8081
//	curl -u demo-client:demo-secret -d grant_type=password -d username=johndoe -d password=foobar42 http://127.0.0.1:8081/oauth2/token
//	curl http://127.0.0.1:8081/metrics | grep oauth2_
//
// Traces go to the global TracerProvider, which does nothing until the
// program installs one (an OTLP exporter, say).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/oauth2provider/oauth2provider/authcheck"
	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/internal/loopback"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		log.Fatal(err)
	}
}

// run serves on addr until ctx ends.
func run(ctx context.Context, addr string) error {
	reg := prometheus.NewRegistry()
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return err
	}
	// Plain HTTP on loopback only: anywhere else the password grant would
	// carry the password, the client secret and the tokens in clear.
	onLoopback := loopback.Addr(addr)
	if !onLoopback {
		log.Printf("%s is not a loopback address: plain HTTP is refused there, so token requests will fail", addr)
	}
	h, shutdown, err := newServer(ctx, reg, onLoopback)
	if err != nil {
		return err
	}
	defer func() { _ = shutdown(context.Background()) }()
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Printf("serving on http://%s (client demo-client / demo-secret, user johndoe / foobar42); metrics at /metrics\n", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newServer returns the app: the provider's endpoints, a protected
// /api/me, and /metrics serving reg, on which the OpenTelemetry
// Prometheus exporter is registered. shutdown flushes the meter provider.
// insecureHTTP lets the endpoints serve plain HTTP: only on loopback.
func newServer(ctx context.Context, reg *prometheus.Registry, insecureHTTP bool) (h http.Handler, shutdown func(context.Context) error, err error) {
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	in, err := oauthotel.New(oauthotel.Config{MeterProvider: mp})
	if err != nil {
		return nil, nil, err
	}

	store := memory.New(memory.Config{})
	secretHash, err := storage.HashSecret("demo-secret") // a chosen secret: slow hash
	if err != nil {
		return nil, nil, err
	}
	err = store.CreateClient(ctx, &storage.Client{
		ID:         "demo-client",
		SecretHash: secretHash,
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken, storage.GrantClientCredentials},
		Scopes:     []string{"read", "write"},
	})
	if err != nil {
		return nil, nil, err
	}
	var users authcheck.Static
	if err := users.Add("johndoe", "foobar42", "user-1"); err != nil {
		return nil, nil, err
	}

	p, err := provider.New(provider.Config{
		Clients:           in.ClientStore("memory", store),
		Tokens:            in.TokenStore("memory", store),
		Limiter:           in.Limiter("memory", memory.NewLimiter(memory.LimiterConfig{})),
		Users:             &users,
		Scopes:            []string{"read", "write"},
		AllowInsecureHTTP: insecureHTTP,   // a local demo over plain HTTP, on loopback only
		Events:            in.Events(nil), // metrics, and the default security log
	})
	if err != nil {
		return nil, nil, err
	}

	mux := http.NewServeMux()
	for _, ep := range []struct {
		path string
		h    http.Handler
	}{
		{provider.DefaultTokenPath, p.TokenHandler()},
		{provider.DefaultRevocationPath, p.RevokeHandler()},
		{provider.DefaultIntrospectionPath, p.IntrospectHandler()},
	} {
		mux.Handle(ep.path, in.Handler(ep.path, ep.h))
	}
	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := policy.IdentityFrom(r.Context())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "hello %s\n", id.UserID)
	})
	mux.Handle("/api/me", in.Policy("bearer", policy.Bearer(p))(me))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux, mp.Shutdown, nil
}
