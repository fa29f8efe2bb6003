package docs_test

import (
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage/redis"
)

// newInstanceProvider is the provider of one instance among many behind a
// load balancer, on Redis: rdb may be a single node, Sentinel or a
// cluster. Every instance runs the same code with the same settings.
func newInstanceProvider(rdb goredis.UniversalClient, users authcheck.AuthChecker) (*provider.Provider, error) {
	// The same key on every instance (from your secret store), or a token
	// bound by one instance is refused, and its grant revoked, by the next.
	bindingKey, err := base64.StdEncoding.DecodeString(os.Getenv("OAUTH2_BINDING_KEY"))
	if err != nil {
		return nil, fmt.Errorf("OAUTH2_BINDING_KEY: %w", err)
	}
	store := redis.New(rdb, redis.Config{Prefix: "myapp:oauth2:"})
	return provider.New(provider.Config{
		Clients: store,
		Tokens:  store,
		Users:   users,
		// Brute-force counts in Redis: the limit holds across instances.
		Limiter:    redis.NewLimiter(rdb, "myapp:oauth2:limit:"),
		BindingKey: bindingKey,
		Issuer:     "https://auth.example.com",
		// The load balancers' networks: their X-Forwarded-For and
		// X-Forwarded-Proto are believed, nobody else's.
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		// No client read per refresh; see "Caching clients" below.
		ClientCacheTTL: 5 * time.Second,
	})
}

// TestInstanceProvider checks the scaling guide's configuration: the client
// IP and HTTPS are read from trusted proxies only, and a short binding key
// is refused. provider.New does not reach Redis, so no server is needed.
func TestInstanceProvider(t *testing.T) {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()

	t.Setenv("OAUTH2_BINDING_KEY", base64.StdEncoding.EncodeToString([]byte("too short")))
	_, err := newInstanceProvider(rdb, &authcheck.Static{})
	require.Error(t, err, "a binding key under 32 bytes is refused")

	t.Setenv("OAUTH2_BINDING_KEY", base64.StdEncoding.EncodeToString(make([]byte, 32)))
	p, err := newInstanceProvider(rdb, &authcheck.Static{})
	require.NoError(t, err)

	viaLB := httptest.NewRequest("POST", "/oauth2/token", nil)
	viaLB.RemoteAddr = "10.1.2.3:40000"
	viaLB.Header.Set("X-Forwarded-For", "198.51.100.9, 203.0.113.7")
	viaLB.Header.Set("X-Forwarded-Proto", "https")
	assert.Equal(t, netip.MustParseAddr("203.0.113.7"), p.ClientIP(viaLB), "the right-most untrusted hop")
	assert.True(t, p.IsHTTPS(viaLB))

	direct := httptest.NewRequest("POST", "/oauth2/token", nil)
	direct.RemoteAddr = "192.0.2.1:40000"
	direct.Header.Set("X-Forwarded-For", "203.0.113.7")
	direct.Header.Set("X-Forwarded-Proto", "https")
	assert.Equal(t, netip.MustParseAddr("192.0.2.1"), p.ClientIP(direct), "headers from an untrusted peer are ignored")
	assert.False(t, p.IsHTTPS(direct))
}
