package bench_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	gooauth2 "github.com/go-oauth2/oauth2/v4"
	gooauth2errors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	fositestorage "github.com/ory/fosite/storage"
	goredis "github.com/redis/go-redis/v9"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/testenv"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
	"github.com/oauth2provider/oauth2provider/storage/redis"
)

// The same fixtures for every library: one confidential client allowed the
// password and refresh_token grants and the scope "read", and one user
// whose check is trivial, so that what is measured is the library.
const (
	clientID   = "bench-client"
	username   = "johndoe"
	password   = "foobar42"
	userID     = "user-1"
	scope      = "read"
	envPG      = "OAUTH2_TEST_POSTGRES_URL"
	envRedis   = "OAUTH2_TEST_REDIS_URL"
	passwordRq = "grant_type=password&username=" + username + "&password=" + password + "&scope=" + scope
)

// lib is one library set up for the benchmarks.
type lib struct {
	// token is the library's token endpoint.
	token http.Handler
	// authz is the Authorization header that authenticates the client
	// (client_secret_basic).
	authz string
	// secret is the client's secret, and stored reads back what the
	// library's client store keeps of it, so that the sanity test can
	// check each set-up verifies the secret the way it is named after.
	secret string
	stored func() []byte
	// validate checks the bearer token in r's Authorization header the
	// way an app using the library would on a protected route, and
	// reports whether it is valid. Ours serves the request into w; the
	// peers' validation functions write nothing.
	validate func(w *statusWriter, r *http.Request) bool
}

// trivialUser is the user check every library gets: two string
// comparisons.
func trivialUser(name, pass string) (string, bool) {
	if name == username && pass == password {
		return userID, true
	}
	return "", false
}

// newSecret returns a random client secret of 256 bits, base64url.
func newSecret(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// sha256Hex is the SHA-256 client-secret hash the peers get in their
// "-sha256" variants, the same work our stored SHA-256 form costs.
func sha256Hex(secret []byte) []byte {
	sum := sha256.Sum256(secret)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum[:])
	return out
}

// --- oauth2provider ---

// newOurs sets up our provider on the given stores, with a generated
// (SHA-256-stored) client secret, as storage.NewClientSecret makes it.
// Brute-force throttling stays on, as shipped. Security events go to a
// no-op Events hook, since the peers emit none. Clients are cached for
// refreshes (Config.ClientCacheTTL, off by default), which the networked
// stores' one-round-trip refresh needs; the memory store is never cached.
// mutate, when not nil, changes the configuration last.
func newOurs(tb testing.TB, clients storage.ClientStore, tokens storage.TokenStore, mutate func(*provider.Config)) *lib {
	tb.Helper()
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		tb.Fatal(err)
	}
	err = clients.CreateClient(context.Background(), &storage.Client{
		ID: clientID, SecretHash: hash, Scopes: []string{scope},
		GrantTypes: []string{storage.GrantPassword, storage.GrantRefreshToken},
	})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := provider.Config{
		Clients: clients, Tokens: tokens, AllowInsecureHTTP: true, Scopes: []string{scope},
		Users: authcheck.Func(func(_ context.Context, name, pass string) (string, error) {
			if id, ok := trivialUser(name, pass); ok {
				return id, nil
			}
			return "", authcheck.ErrInvalidCredentials
		}),
		Events:         func(context.Context, provider.Event) {},
		ClientCacheTTL: clientCacheTTL,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	p, err := provider.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	protected := policy.Bearer(p)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	return &lib{
		token:  p.TokenHandler(),
		authz:  basic(clientID, secret),
		secret: secret,
		stored: func() []byte {
			c, err := clients.GetClient(context.Background(), clientID)
			if err != nil {
				return nil
			}
			return []byte(c.SecretHash)
		},
		validate: func(w *statusWriter, r *http.Request) bool {
			w.status = 0
			protected.ServeHTTP(w, r)
			return w.status == 0 // the no-op handler wrote nothing: it was reached
		},
	}
}

// clientCacheTTL is the Config.ClientCacheTTL of our set-ups.
const clientCacheTTL = 5 * time.Second

func oursMemory(tb testing.TB) *lib {
	s := memory.New(memory.Config{})
	return newOurs(tb, s, s, nil)
}

// oursMemoryLogged sends security events to a slog text logger that
// writes to io.Discard, which is the cost of the default (logging to
// slog.Default) without a terminal's.
func oursMemoryLogged(tb testing.TB) *lib {
	s := memory.New(memory.Config{})
	return newOurs(tb, s, s, func(c *provider.Config) {
		c.Events = nil
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	})
}

// oursMemoryUnthrottled is oursMemory with Config.DisableThrottling:
// the work the peers do, none of which limits password guesses, for "A
// fair reading" in docs/benchmarks.md. It is no setting to ship: without
// throttling a password can be guessed as fast as the app answers.
func oursMemoryUnthrottled(tb testing.TB) *lib {
	s := memory.New(memory.Config{})
	return newOurs(tb, s, s, func(c *provider.Config) { c.DisableThrottling = true })
}

// noClientCache turns Config.ClientCacheTTL off, as shipped.
func noClientCache(c *provider.Config) { c.ClientCacheTTL = 0 }

// redisClient returns a client on OAUTH2_TEST_REDIS_URL and a key prefix
// of its own, whose keys are deleted when tb ends; it skips tb when the
// variable is unset.
func redisClient(tb testing.TB) (goredis.UniversalClient, string) {
	tb.Helper()
	url := testenv.Getenv(tb, envRedis, "set it to a Redis URL, e.g. redis://127.0.0.1:6379/0, to benchmark the Redis store")
	opt, err := goredis.ParseURL(url)
	if err != nil {
		tb.Fatal(err)
	}
	c := goredis.NewClient(opt)
	prefix := "oauth2bench:" + newSecret(tb)[:16] + ":"
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// The Redis Limiter's keys start with "rate:" and then its prefix.
		iter := c.Scan(ctx, 0, "*"+prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 1000 {
				c.Unlink(ctx, keys...)
				keys = keys[:0]
			}
		}
		if len(keys) > 0 {
			c.Unlink(ctx, keys...)
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("delete bench keys: %v", err)
		}
		_ = c.Close()
	})
	return c, prefix
}

func oursRedis(tb testing.TB) *lib { return oursRedisWith(tb, nil) }

// oursRedisUncached is oursRedis without the client cache: a refresh
// reads the client first, one more round trip.
func oursRedisUncached(tb testing.TB) *lib { return oursRedisWith(tb, noClientCache) }

// oursRedisLimiter is oursRedis throttling with the Redis Limiter, the
// one several instances of an app share, instead of the in-process one:
// a password grant then also pays the limiter's round trips.
func oursRedisLimiter(tb testing.TB) *lib {
	c, prefix := redisClient(tb)
	s := redis.New(c, redis.Config{Prefix: prefix})
	return newOurs(tb, s, s, func(cfg *provider.Config) { cfg.Limiter = redis.NewLimiter(c, prefix+"limit:") })
}

// oursRedisWith is our provider on a Redis store, its configuration
// changed by mutate (see newOurs).
func oursRedisWith(tb testing.TB, mutate func(*provider.Config)) *lib {
	c, prefix := redisClient(tb)
	s := redis.New(c, redis.Config{Prefix: prefix})
	return newOurs(tb, s, s, mutate)
}

// pgPool returns a pool on OAUTH2_TEST_POSTGRES_URL whose connections see
// a new schema of their own, migrated, and dropped when tb ends; it skips
// tb when the variable is unset.
func pgPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	url := testenv.Getenv(tb, envPG, "set it to a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable, to benchmark the Postgres store")
	ctx := context.Background()
	schema := "oauth2bench_" + strings.ToLower(hex.EncodeToString([]byte(newSecret(tb)[:6])))
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "create schema "+schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_, err := admin.Exec(context.Background(), "drop schema "+schema+" cascade")
		_ = admin.Close(context.Background())
		if err != nil {
			tb.Errorf("drop bench schema: %v", err)
		}
	})
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close) // runs before the schema is dropped
	if err := postgres.Migrate(ctx, pool); err != nil {
		tb.Fatal(err)
	}
	return pool
}

func oursPostgres(tb testing.TB) *lib { return oursPostgresWith(tb, nil) }

// oursPostgresUncached is oursPostgres without the client cache.
func oursPostgresUncached(tb testing.TB) *lib { return oursPostgresWith(tb, noClientCache) }

// oursPostgresWith is our provider on a Postgres store, its
// configuration changed by mutate (see newOurs).
func oursPostgresWith(tb testing.TB, mutate func(*provider.Config)) *lib {
	s := postgres.New(pgPool(tb), postgres.Config{})
	return newOurs(tb, s, s, mutate)
}

// --- ory/fosite ---

// fositeStore is fosite's in-memory store with the trivial user check in
// place of its own (which makes a random UUID per login).
type fositeStore struct{ *fositestorage.MemoryStore }

func (s fositeStore) Authenticate(_ context.Context, name, pass string) (string, error) {
	if id, ok := trivialUser(name, pass); ok {
		return id, nil
	}
	return "", fosite.ErrNotFound
}

// sha256Hasher is a fosite.Hasher that stores a client secret as its
// SHA-256, compared in constant time.
type sha256Hasher struct{}

func (sha256Hasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	return sha256Hex(data), nil
}

func (sha256Hasher) Compare(_ context.Context, hash, data []byte) error {
	if subtle.ConstantTimeCompare(hash, sha256Hex(data)) != 1 {
		return errors.New("secret mismatch")
	}
	return nil
}

// newFosite sets up fosite with opaque HMAC-SHA256 tokens (its default
// strategy, the analogue of ours) on its memory store, with the password,
// refresh and introspection handlers. As shipped, client secrets are
// bcrypt hashes of the default cost (12); with sha256 set, SHA-256.
func newFosite(tb testing.TB, sha bool) *lib {
	tb.Helper()
	cfg := &fosite.Config{
		GlobalSecret:         []byte(newSecret(tb)[:32]),
		AccessTokenLifespan:  time.Hour,
		RefreshTokenLifespan: 30 * 24 * time.Hour,
		RefreshTokenScopes:   []string{}, // issue refresh tokens without an "offline" scope, as ours does
	}
	if sha {
		cfg.ClientSecretsHasher = sha256Hasher{}
	}
	if _, isTest := tb.(*testing.T); isTest {
		// The sanity test checks the set-up, not bcrypt: the cheapest
		// cost keeps it quick under -race. Benchmarks keep the default.
		cfg.HashCost = 4
	}
	secret := newSecret(tb)
	hashed, err := cfg.GetSecretsHasher(context.Background()).Hash(context.Background(), []byte(secret))
	if err != nil {
		tb.Fatal(err)
	}
	st := fositestorage.NewMemoryStore()
	st.Clients[clientID] = &fosite.DefaultClient{
		ID: clientID, Secret: hashed, Scopes: []string{scope},
		GrantTypes: []string{"password", "refresh_token"},
	}
	f := compose.Compose(cfg, fositeStore{st},
		&compose.CommonStrategy{CoreStrategy: compose.NewOAuth2HMACStrategy(cfg)},
		// Deprecated in fosite (OAuth 2.1 drops the grant) but shipped,
		// and the grant the comparison is about.
		compose.OAuth2ResourceOwnerPasswordCredentialsFactory, //lint:ignore SA1019 see above
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
	)
	// The token endpoint as fosite's documentation writes it.
	token := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ar, err := f.NewAccessRequest(ctx, r, &fosite.DefaultSession{})
		if err != nil {
			f.WriteAccessError(ctx, w, ar, err)
			return
		}
		if ar.GetGrantTypes().ExactOne("password") {
			for _, s := range ar.GetRequestedScopes() {
				ar.GrantScope(s)
			}
		}
		resp, err := f.NewAccessResponse(ctx, ar)
		if err != nil {
			f.WriteAccessError(ctx, w, ar, err)
			return
		}
		f.WriteAccessResponse(ctx, w, ar, resp)
	})
	return &lib{
		token:  token,
		authz:  basic(clientID, secret),
		secret: secret,
		stored: func() []byte {
			c, err := st.GetClient(context.Background(), clientID)
			if err != nil {
				return nil
			}
			return c.GetHashedSecret()
		},
		validate: func(_ *statusWriter, r *http.Request) bool {
			tok := fosite.AccessTokenFromRequest(r)
			use, _, err := f.IntrospectToken(r.Context(), tok, fosite.AccessToken, &fosite.DefaultSession{})
			return err == nil && use == fosite.AccessToken
		},
	}
}

// --- go-oauth2/oauth2 ---

// sha256Client is a go-oauth2 client whose secret is stored as its
// SHA-256 and compared in constant time (go-oauth2 calls VerifyPassword
// when a client has it).
type sha256Client struct {
	*models.Client
	hash []byte
}

func (c *sha256Client) VerifyPassword(secret string) bool {
	return subtle.ConstantTimeCompare(c.hash, sha256Hex([]byte(secret))) == 1
}

// newGoOAuth2 sets up go-oauth2 with its default manager, memory token
// store (buntdb) and memory client store. As shipped, the client secret is
// kept in the clear and compared with != on password grants, and not
// checked at all on refreshes; with sha256 set, it is kept as SHA-256 and
// checked on both.
func newGoOAuth2(tb testing.TB, sha bool) *lib {
	tb.Helper()
	m := manage.NewDefaultManager()
	m.MustTokenStorage(store.NewMemoryTokenStore())
	// The lifetimes ours and fosite use (go-oauth2's defaults are 2 h
	// and 7 days, and a refresh keeps the old refresh token's expiry);
	// rotation as go-oauth2 ships it: the old access and refresh tokens
	// removed.
	m.SetPasswordTokenCfg(&manage.Config{AccessTokenExp: time.Hour, RefreshTokenExp: 30 * 24 * time.Hour, IsGenerateRefresh: true})
	m.SetRefreshTokenCfg(&manage.RefreshingConfig{
		AccessTokenExp: time.Hour, RefreshTokenExp: 30 * 24 * time.Hour, IsResetRefreshTime: true,
		IsGenerateRefresh: true, IsRemoveAccess: true, IsRemoveRefreshing: true,
	})
	cs := store.NewClientStore()
	secret := newSecret(tb)
	base := &models.Client{ID: clientID, Secret: secret}
	var ci gooauth2.ClientInfo = base
	if sha {
		ci = &sha256Client{Client: &models.Client{ID: clientID}, hash: sha256Hex([]byte(secret))}
	}
	if err := cs.Set(clientID, ci); err != nil {
		tb.Fatal(err)
	}
	m.MapClientStorage(cs)
	srv := server.NewDefaultServer(m)
	srv.SetAllowedGrantType(gooauth2.PasswordCredentials, gooauth2.Refreshing)
	if sha {
		// go-oauth2 checks the client's secret on a password grant but
		// not on a refresh, where RFC 6749 §6 requires it of a
		// confidential client and where ours and fosite check it. With
		// the SHA-256 hasher go-oauth2 does the same work as ours: the
		// client read and the secret verified, on refreshes too (the
		// password grant already verifies it in the manager).
		srv.SetClientInfoHandler(func(r *http.Request) (string, string, error) {
			id, secret, err := server.ClientBasicHandler(r)
			if err != nil || r.FormValue("grant_type") != gooauth2.Refreshing.String() {
				return id, secret, err
			}
			ci, err := cs.GetByID(r.Context(), id)
			if err != nil {
				return "", "", gooauth2errors.ErrInvalidClient
			}
			if v, ok := ci.(gooauth2.ClientPasswordVerifier); !ok || !v.VerifyPassword(secret) {
				return "", "", gooauth2errors.ErrInvalidClient
			}
			return id, secret, nil
		})
	}
	srv.SetPasswordAuthorizationHandler(func(_ context.Context, _, name, pass string) (string, error) {
		if id, ok := trivialUser(name, pass); ok {
			return id, nil
		}
		return "", nil // go-oauth2 answers invalid_grant for an empty user ID
	})
	return &lib{
		token:  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = srv.HandleTokenRequest(w, r) }),
		authz:  basic(clientID, secret),
		secret: secret,
		stored: func() []byte {
			ci, err := cs.GetByID(context.Background(), clientID)
			if err != nil {
				return nil
			}
			if c, ok := ci.(*sha256Client); ok {
				return c.hash
			}
			return []byte(ci.GetSecret())
		},
		validate: func(_ *statusWriter, r *http.Request) bool {
			_, err := srv.ValidationBearerToken(r)
			return err == nil
		},
	}
}

// --- driving the libraries ---

// statusWriter is a ResponseWriter that keeps only the status, so that
// validation is measured without a recorder's buffers.
type statusWriter struct {
	h      http.Header
	status int
}

func (w *statusWriter) Header() http.Header {
	if w.h == nil {
		w.h = make(http.Header)
	}
	return w.h
}
func (w *statusWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *statusWriter) WriteHeader(code int)        { w.status = code }

// tokenResponse is the part of a token response the benchmarks use.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// tokenURL is the URL every benchmark request goes to.
var tokenURL = &url.URL{Scheme: "http", Host: "127.0.0.1", Path: "/token"}

// tokenRequest makes a POST to the token endpoint with the form body, as
// net/http's server hands it to a handler. It is built directly rather
// than with httptest.NewRequest, which parses a serialised request and
// would cost as much as the cheaper libraries' whole endpoint.
func tokenRequest(l *lib, body string) *http.Request {
	return new(requester).next(l, body)
}

// requester makes the token requests of one benchmark loop without
// allocating: each is a fresh copy of one template (so nothing a library
// set on the previous request, such as a parsed form, is left) with the
// body reader reset. The header map is shared by the copies: the
// libraries only read it, which the loops' status checks would show
// otherwise.
type requester struct {
	r      http.Request
	body   bodyReader
	header http.Header
	// remoteAddr is the client's address; empty means 127.0.0.1:50000.
	remoteAddr string
}

// next returns the request to post body to l's token endpoint; it is
// valid until the next call.
func (q *requester) next(l *lib, body string) *http.Request {
	if q.header == nil || q.header.Get("Authorization") != l.authz {
		q.header = http.Header{
			"Content-Type":  {"application/x-www-form-urlencoded"},
			"Authorization": {l.authz},
		}
	}
	q.body.Reset(body)
	// No context: Context() is then context.Background().
	q.r = http.Request{
		Method:        http.MethodPost,
		URL:           tokenURL,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Host:          tokenURL.Host,
		RemoteAddr:    cmp.Or(q.remoteAddr, "127.0.0.1:50000"),
		RequestURI:    tokenURL.Path,
		ContentLength: int64(len(body)),
		Body:          &q.body,
		Header:        q.header,
	}
	return &q.r
}

// bodyReader is a request body that can be reset to a new string.
type bodyReader struct{ strings.Reader }

func (*bodyReader) Close() error { return nil }

// grant posts body to l's token endpoint and returns the tokens, or an
// error with the status when it did not answer 200 with both tokens.
func grant(l *lib, body string) (tokenResponse, error) {
	return grantInto(new(recorder), new(requester), l, body)
}

// grantInto is grant writing into w, which it resets first, with a
// request from q. The tokens
// are read out of the JSON body by a scan for their members (every
// library writes them as plain strings), which costs the loop far less
// than decoding the body; TestSetups_IssueRefreshAndValidate checks the
// scan against encoding/json.
func grantInto(w *recorder, q *requester, l *lib, body string) (tokenResponse, error) {
	w.reset()
	l.token.ServeHTTP(w, q.next(l, body))
	var tr tokenResponse
	if w.Code != http.StatusOK {
		return tr, errors.New("token endpoint answered " + http.StatusText(w.Code) + ": " + w.Body.String())
	}
	b := w.Body.Bytes()
	tr.AccessToken, tr.RefreshToken = jsonMember(b, `"access_token":"`), jsonMember(b, `"refresh_token":"`)
	if tr.AccessToken == "" || tr.RefreshToken == "" {
		return tr, errors.New("token response without both tokens: " + w.Body.String())
	}
	return tr, nil
}

// jsonMember returns the string value that follows name (a member name
// with its colon and opening quote) in a JSON object, up to the next
// quote, or "" when there is none.
func jsonMember(body []byte, name string) string {
	i := bytes.Index(body, []byte(name))
	if i < 0 {
		return ""
	}
	v := body[i+len(name):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return ""
	}
	return string(v[:j])
}

// bearerRequest is a GET of a protected route with the access token.
func bearerRequest(access string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	r.Header.Set("Authorization", "Bearer "+access)
	return r
}

// libs are the set-ups every benchmark runs, in the order of the tables.
var libs = []struct {
	name string
	new  func(testing.TB) *lib
}{
	{"ours", oursMemory},
	{"ours-logged", oursMemoryLogged},
	{"fosite", func(tb testing.TB) *lib { return newFosite(tb, false) }},
	// The -sha256 set-ups are the peers with a SHA-256 client-secret
	// hasher, the work our generated secrets cost.
	{"fosite-sha256", func(tb testing.TB) *lib { return newFosite(tb, true) }},
	{"gooauth2", func(tb testing.TB) *lib { return newGoOAuth2(tb, false) }},
	{"gooauth2-sha256", func(tb testing.TB) *lib { return newGoOAuth2(tb, true) }},
	{"ours-redis", oursRedis},
	{"ours-postgres", oursPostgres},
	{"ours-unthrottled", oursMemoryUnthrottled},
}
