package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/internal/scope"
	"github.com/oauth2provider/oauth2provider/internal/wallclock"
	"github.com/oauth2provider/oauth2provider/storage"
)

// Defaults applied by [New] to zero fields of [Config].
const (
	DefaultAccessTokenTTL  = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	DefaultRealm           = "oauth2provider"
	DefaultMaxRequestBytes = 64 << 10
)

// MaxRefreshReuseGrace is the longest [Config.RefreshReuseGrace] [New]
// accepts: a grace is for a retry after a lost answer, which comes within
// seconds, and every second of it is a second in which a replayed refresh
// token goes undetected.
const MaxRefreshReuseGrace = time.Minute

// Config configures a [Provider]. Only Clients and Tokens are required;
// every other field documents what its zero value means.
type Config struct {
	// Clients finds registered clients. Required.
	Clients storage.ClientStore
	// Tokens keeps grants and tokens. Required.
	Tokens storage.TokenStore
	// Users checks resource owners' passwords for the password grant.
	// Nil means the password grant is unsupported (unsupported_grant_type).
	Users authcheck.AuthChecker

	// AccessTokenTTL is the lifetime of access tokens. Zero means one hour.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the lifetime of refresh tokens; each rotation
	// issues a new one with a full lifetime. Zero means 30 days. A token
	// whose lifetime would reach past 2262-04-11 (the last instant the
	// memory and Redis stores hold) expires then.
	RefreshTokenTTL time.Duration
	// RefreshReuseGrace is how long after a refresh token was first used
	// presenting it again still refreshes, instead of being reuse that
	// revokes the grant (RFC 9700 §4.14.2): a client whose answer to a
	// refresh was lost (a dropped connection, a timeout) can try again
	// with the token it holds and gets a new pair, while the pair the
	// first refresh issued stays valid. The time runs from the first use
	// and never restarts, and it ends early once any refresh token of the
	// grant is used after that first use: the client then had its answer. The price is that a stolen refresh token
	// replayed within it is not detected, so keep it short: at most
	// [MaxRefreshReuseGrace]. Zero, the default, is none: every second
	// presentation is reuse. It needs a TokenStore that implements
	// storage.Exchange.ReuseGrace, as every store of this module does;
	// one that does not treats every second presentation as reuse.
	RefreshReuseGrace time.Duration

	// Scopes lists every scope the provider knows; a requested scope
	// outside it is invalid_scope. Nil means no provider-wide list: only
	// the clients' own lists restrict scopes.
	Scopes []string
	// DefaultScopes are granted when a request names no scope and the
	// client has no DefaultScopes: all of them to a client with no Scopes
	// of its own (which may request only these), and to any other those
	// in its Scopes. Nil means none.
	DefaultScopes []string

	// Issuer is the provider's issuer identifier (RFC 8414), e.g.
	// "https://auth.example.com". [New] refuses one that is not an
	// https URL (or http with AllowInsecureHTTP, for development) without
	// user info, query or fragment, or whose path is not clean, needs
	// escaping or holds "{" or "}". With a path
	// ("https://example.com/tenant") the endpoints go under it
	// ([Provider.Routes]). Empty means none: the metadata endpoint
	// answers 404, and introspection responses and authorization
	// redirects carry no iss.
	Issuer string
	// Realm is the realm of WWW-Authenticate challenges. Empty means
	// "oauth2provider".
	Realm string

	// AllowInsecureHTTP lets the endpoints, the login form and the routes
	// behind the policy package's Bearer, Cookie and CookieOrBearer serve
	// over plain HTTP, for development. False means a request that did
	// not arrive over TLS (or through a trusted proxy that says
	// X-Forwarded-Proto: https) is refused with invalid_request, as is one
	// whose trusted proxy says another X-Forwarded-Proto even over a TLS
	// hop (Provider.IsHTTPS).
	AllowInsecureHTTP bool
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-Proto and X-Forwarded-For headers are believed. Nil means
	// no proxy is trusted and those headers are ignored. Addresses are
	// compared in their IPv4 form when they are IPv4 (mapped ones too):
	// list IPv4 proxies by IPv4 prefixes (an IPv4-mapped prefix is
	// converted; ::/0 matches no IPv4 address).
	TrustedProxies []netip.Prefix
	// TrustUnixSocketProxy believes those headers, too, from the peer of
	// a request that arrived on a Unix socket (a reverse proxy on the
	// same host), which has no address TrustedProxies could name; the
	// hops of X-Forwarded-For are judged by TrustedProxies as usual.
	// Without it every such request is from the unknown address, so all
	// clients share one throttling budget, and none arrives over HTTPS.
	TrustUnixSocketProxy bool

	// MaxRequestBytes caps the body of endpoint requests, and the URL
	// query of a GET to the authorization endpoint (a longer one is 414).
	// Zero means 64 KiB.
	MaxRequestBytes int64

	// BindingKey, when set, binds every new grant of the password and
	// client credentials grants and every browser session to an
	// HMAC-SHA256 under this key of the client IP and User-Agent it was
	// issued to ([Provider.Fingerprint]); a token presented with another
	// fingerprint is refused (an access token or session: invalid_token;
	// a refresh token: invalid_grant, consuming nothing) and its grant is
	// revoked. A grant of the authorization code flow is bound when its
	// code is exchanged, to the fingerprint of the token request (the
	// client that holds the tokens), not of the browser the code was
	// issued to. At least 32 random bytes. Nil means grants are not bound.
	BindingKey []byte

	// Limiter counts failed password and client-secret attempts for
	// brute-force throttling (RFC 6749 §4.3.2; see [Provider.AuthenticateUser]).
	// Nil means an in-process storage/memory Limiter on Now, whose counts
	// each instance keeps for itself; give every instance the same shared
	// Limiter (storage/redis) when several serve. Each attempt is
	// judged under two keys: a [storage.BatchLimiter] reserves and
	// refunds both in one call each (one round trip on Redis), any other
	// Limiter is asked key by key.
	Limiter storage.Limiter
	// DisableThrottling turns brute-force throttling off, e.g. when a
	// proxy in front does it. False means throttling is on.
	DisableThrottling bool
	// UserRate limits failed passwords per (username, client IP). Zero
	// means [DefaultUserRate].
	UserRate storage.Rate
	// IPRate limits failed passwords per client IP (per /64 for IPv6),
	// whatever the username, and, counted apart, failed client secrets
	// per client IP, whatever the client ID. Zero means [DefaultIPRate].
	IPRate storage.Rate
	// ClientRate limits failed client secrets per (client ID, client IP),
	// for secrets a person chose; generated secrets and unknown clients
	// are never throttled. Zero means [DefaultClientRate].
	ClientRate storage.Rate

	// ClientCacheTTL, when positive, keeps in this process, for this
	// long, each client that authenticated with a generated secret
	// ([storage.NewClientSecret]) or as a public client for a refresh or
	// authorization code grant, and serves those grants' client
	// authentication from it: the grant then costs a networked store one
	// round trip, the exchange, instead of two. It is used only for
	// grants that exchange a single-use token, which the store re-checks
	// atomically, so the grants [Provider.DisableClient] revoked are
	// refused even where the client is still cached. Password, client
	// credentials, introspection and revocation requests always read the
	// store, so a disabled client starts nothing new.
	//
	// What may lag by up to ClientCacheTTL, on every instance that cached
	// the client, is a change made in the store alone that takes
	// something away: an old secret keeps working, a client made
	// confidential keeps refreshing with its ID alone, a grant type
	// removed keeps working, a client marked Disabled without
	// DisableClient keeps exchanging. A change that allows more takes
	// effect at once: a cached client that refuses a request (a new
	// secret, a grant type just allowed) is read again. And a grant that
	// a password or client_credentials grant creates while DisableClient
	// runs can outlive the revocation (its access token works until it
	// expires, cache or not); where the client is cached it can also be
	// refreshed for up to ClientCacheTTL. So can an authorization code
	// issued meanwhile, on an instance that cached the client, be
	// exchanged.
	//
	// A store that is a [storage.ClientViewer] (an in-process store,
	// which a cache would not speed up) is never cached; a wrapper around
	// one that does not pass ViewClient on is. Zero means no cache. A few
	// seconds is a sensible value.
	ClientCacheTTL time.Duration

	// Events receives the provider's security events ([Event]). It must
	// be safe for concurrent use and quick. Its context carries the
	// request's values but not its cancellation: the event happened
	// even if the client has gone. A panic in it is recovered
	// and logged to Logger, and the request goes on: it is called after
	// tokens were issued or a refresh token consumed, whose response
	// must reach the client. Nil means each event is logged to Logger.
	Events func(context.Context, Event)
	// Logger logs security events when Events is nil, panics of Events,
	// and, at Error, the cause of each 503 (temporarily_unavailable) of
	// the token, revocation, introspection and authorization endpoints
	// and of the policy package's login form, logout and policies (see
	// [Provider.LogOutage]): the store's or the AuthChecker's error,
	// which the response does not show; at Debug when the request's
	// client went away (context.Canceled). Nil means slog.Default() at
	// the time of each record.
	Logger *slog.Logger

	// Endpoints are the paths the handlers are mounted at, which the
	// metadata document advertises. Zero fields mean the quickstart's
	// paths.
	Endpoints Endpoints

	// Now is the provider's clock. Nil means time.Now.
	Now func() time.Time
}

// Provider is an OAuth 2.0 authorization server. It is safe for
// concurrent use; its handlers may serve any number of requests at once.
type Provider struct {
	cfg           Config
	knownScopes   map[string]struct{} // nil: no provider-wide list
	defaultScopes []string
	throttle      *throttler   // nil: throttling disabled
	clients       *clientCache // nil: Config.ClientCacheTTL is off
	// viewer and filler are Config.Clients and Config.Tokens as the
	// optional interfaces that spare a copy, nil when they are not.
	viewer storage.ClientViewer
	filler storage.TokenInfoFiller
	// checkNow is the clock validation judges expiry by: Config.Now, or
	// when the app set none the wall clock alone, half time.Now's cost.
	checkNow func() time.Time
	// macs recycles the *fingerprintMACs of Fingerprint, keyed with
	// BindingKey.
	macs sync.Pool
}

// New validates cfg, fills in defaults and returns a Provider. It returns
// an error, and never a half-built Provider, when a required field is
// missing or a value is out of range.
func New(cfg Config) (*Provider, error) {
	var errs []error
	if cfg.Clients == nil {
		errs = append(errs, errors.New("missing Config.Clients"))
	}
	if cfg.Tokens == nil {
		errs = append(errs, errors.New("missing Config.Tokens"))
	}
	// A nil pointer (or nil func) in an interface field is not a nil
	// interface: it passes the checks above and the nil checks that pick
	// a default, then panics at the first request that uses it (a
	// Limiter only with throttling on).
	for _, f := range []struct {
		name string
		v    any
	}{{"Clients", cfg.Clients}, {"Tokens", cfg.Tokens}, {"Users", cfg.Users}, {"Limiter", cfg.Limiter}} {
		if nilInInterface(f.v) && (f.name != "Limiter" || !cfg.DisableThrottling) {
			errs = append(errs, fmt.Errorf("nil %T in Config.%s: leave the field nil, or set a value", f.v, f.name))
		}
	}
	if cfg.AccessTokenTTL < 0 || (cfg.AccessTokenTTL > 0 && cfg.AccessTokenTTL < time.Second) {
		errs = append(errs, errors.New("negative or sub-second AccessTokenTTL"))
	}
	if cfg.RefreshTokenTTL < 0 || (cfg.RefreshTokenTTL > 0 && cfg.RefreshTokenTTL < time.Second) {
		errs = append(errs, errors.New("negative or sub-second RefreshTokenTTL"))
	}
	if cfg.RefreshReuseGrace < 0 || cfg.RefreshReuseGrace > MaxRefreshReuseGrace {
		errs = append(errs, fmt.Errorf("RefreshReuseGrace %v outside 0 to %v", cfg.RefreshReuseGrace, MaxRefreshReuseGrace))
	}
	if cfg.MaxRequestBytes < 0 {
		errs = append(errs, errors.New("negative MaxRequestBytes"))
	}
	if cfg.ClientCacheTTL < 0 {
		errs = append(errs, errors.New("negative ClientCacheTTL"))
	}
	for _, s := range cfg.Scopes {
		if !scope.ValidToken(s) {
			errs = append(errs, fmt.Errorf("scope %q in Scopes is not a valid scope token (RFC 6749 §3.3)", s))
		}
	}
	for _, s := range cfg.DefaultScopes {
		if !scope.ValidToken(s) {
			errs = append(errs, fmt.Errorf("scope %q in DefaultScopes is not a valid scope token (RFC 6749 §3.3)", s))
		} else if cfg.Scopes != nil && !slices.Contains(cfg.Scopes, s) {
			errs = append(errs, fmt.Errorf("scope %q in DefaultScopes is not in Scopes", s))
		}
	}
	cfg.TrustedProxies = slices.Clone(cfg.TrustedProxies) // normalized below, never the caller's
	for i, pfx := range cfg.TrustedProxies {
		switch {
		case !pfx.IsValid():
			errs = append(errs, errors.New("invalid prefix in TrustedProxies"))
		case pfx.Addr().Is4In6() && pfx.Bits() < 96:
			errs = append(errs, fmt.Errorf("TrustedProxies: %s is wider than the IPv4-mapped addresses", pfx))
		case pfx.Addr().Is4In6():
			// Client addresses are compared unmapped: so is the prefix.
			cfg.TrustedProxies[i] = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96).Masked()
		}
	}
	if err := setUpBinding(&cfg); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateThrottle(&cfg)...)
	errs = append(errs, validateEndpoints(&cfg)...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("provider: invalid config: %w", errors.Join(errs...))
	}

	if cfg.AccessTokenTTL == 0 {
		cfg.AccessTokenTTL = DefaultAccessTokenTTL
	}
	if cfg.RefreshTokenTTL == 0 {
		cfg.RefreshTokenTTL = DefaultRefreshTokenTTL
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}
	// Before Now's default: a Limiter it makes is left on its own clock,
	// the monotonic one, when the app set no clock.
	throttle := newThrottler(&cfg)
	checkNow := cfg.Now
	if cfg.Now == nil {
		cfg.Now = time.Now
		checkNow = wallclock.Now
	}
	cfg.Scopes = slices.Clone(cfg.Scopes)
	cfg.DefaultScopes = slices.Clone(cfg.DefaultScopes)

	cfg.Endpoints = cfg.Endpoints.withDefaults()
	p := &Provider{cfg: cfg, defaultScopes: dedupe(cfg.DefaultScopes), throttle: throttle, checkNow: checkNow}
	p.viewer, _ = cfg.Clients.(storage.ClientViewer)
	p.filler, _ = cfg.Tokens.(storage.TokenInfoFiller)
	if cfg.ClientCacheTTL > 0 && p.viewer == nil {
		p.clients = &clientCache{ttl: cfg.ClientCacheTTL}
	}
	if cfg.Scopes != nil {
		p.knownScopes = make(map[string]struct{}, len(cfg.Scopes))
		for _, s := range cfg.Scopes {
			p.knownScopes[s] = struct{}{}
		}
	}
	return p, nil
}

// nilInInterface reports whether v, a non-nil interface, holds a nil
// pointer, func, map, slice or channel.
func nilInInterface(v any) bool {
	if v == nil {
		return false
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Slice, reflect.Chan: // never Interface: ValueOf gives the dynamic value
		return rv.IsNil()
	}
	return false
}

// Config returns the provider's configuration with defaults filled in.
// The slices are copies; changing them changes nothing.
func (p *Provider) Config() Config {
	c := p.cfg
	c.Scopes = slices.Clone(c.Scopes)
	c.DefaultScopes = slices.Clone(c.DefaultScopes)
	c.TrustedProxies = slices.Clone(c.TrustedProxies)
	c.BindingKey = slices.Clone(c.BindingKey)
	return c
}

// Realm returns the realm of the provider's WWW-Authenticate challenges.
func (p *Provider) Realm() string { return p.cfg.Realm }

func (p *Provider) now() time.Time { return p.cfg.Now() }
