package policy

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/header"
	"github.com/oauth2provider/oauth2provider/internal/scope"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

// Defaults applied by [NewSessions] to zero fields of [SessionConfig].
const (
	DefaultSessionName        = "session"
	DefaultSessionTTL         = 24 * time.Hour
	DefaultSessionMaxLifetime = 30 * 24 * time.Hour
)

// hostPrefix is the cookie name prefix that makes browsers insist on
// Secure, Path=/ and no Domain, so a sibling subdomain cannot plant or
// shadow the cookie.
const hostPrefix = "__Host-"

// SessionConfig configures [Sessions]. Every field documents what its zero
// value means.
type SessionConfig struct {
	// Name is the cookie's name. Empty means "session". Unless the
	// provider allows plain HTTP (provider.Config.AllowInsecureHTTP), the
	// cookie is Secure and its name carries the "__Host-" prefix
	// ("__Host-session"); when it does, the name has no prefix and the
	// cookie is Secure in the responses to requests that came over HTTPS.
	Name string
	// TTL is how long a session lasts after login or, with Sliding, after
	// its last use. Zero means 24 hours. Without Sliding, a session
	// started under a longer TTL (before a redeploy) ends once it is TTL
	// old, as do, with Sliding, those past MaxLifetime.
	TTL time.Duration
	// Sliding renews a session on use, as the Flask seed did: a request
	// with the cookie moves the expiry to TTL from now. To spare the store
	// a write per request it does so once a tenth of TTL has passed since
	// the last renewal. False means a session ends TTL after login. A
	// response that renews the cookie carries Cache-Control: no-store, set
	// before the app's handler runs: a handler behind Cookie or
	// CookieOrBearer must not make such a response cacheable by a shared
	// cache (Cache-Control: public), which could hand the session to
	// others.
	Sliding bool
	// MaxLifetime caps a sliding session: it ends MaxLifetime after login
	// however active it is, also when it was started (and renewed) under
	// a longer MaxLifetime. Zero means 30 days. With Sliding,
	// [NewSessions] refuses a TTL longer than it (set both for a longer
	// TTL). Ignored without Sliding.
	MaxLifetime time.Duration
	// Scopes are the scopes of a session, which [Require] checks like a
	// token's. Nil means none: a route behind Require accepts no cookie.
	// A session started under other Scopes (before a redeploy) carries
	// those of its own that Scopes still holds: a scope taken out ends at
	// once for every session, one added reaches only sessions started
	// after.
	Scopes []string
	// TrustedOrigins are other origins ("https://app.example.com") whose
	// pages may send cookie-authenticated unsafe requests (POST, PUT,
	// PATCH, DELETE) and log in or out. Nil means the site's own origin
	// only (net/http.CrossOriginProtection).
	TrustedOrigins []string
}

// Sessions keeps browser sessions behind a cookie: server-side records in
// the provider's TokenStore (the hash of a random token, with an expiry),
// so that logout, revoking the user and binding end them like tokens. It
// serves the login and logout handlers and backs the [Cookie] and
// [CookieOrBearer] policies. It is safe for concurrent use.
type Sessions struct {
	p           *provider.Provider
	name        string // with the __Host- prefix when secure
	secure      bool   // the cookie is Secure; login requires HTTPS
	ttl, maxAge time.Duration
	sliding     bool
	scopes      []string
	maxBody     int64
	now         func() time.Time
	cop         *http.CrossOriginProtection
	trusted     map[string]bool // TrustedOrigins
	realm       string          // p's realm, for Require's challenge (see identityCtx)
}

// NewSessions returns the sessions of p configured by cfg, or an error
// when cfg is invalid.
func NewSessions(p *provider.Provider, cfg SessionConfig) (*Sessions, error) {
	if p == nil {
		return nil, errors.New("policy: NewSessions needs a provider")
	}
	pc := p.Config()
	var errs []error
	if cfg.Name == "" {
		cfg.Name = DefaultSessionName
	}
	if !validCookieName(cfg.Name) || strings.HasPrefix(cfg.Name, hostPrefix) || strings.HasPrefix(cfg.Name, "__Secure-") {
		errs = append(errs, fmt.Errorf("invalid cookie Name %q (a token without a __Host- or __Secure- prefix)", cfg.Name))
	}
	if cfg.TTL < 0 || (cfg.TTL > 0 && cfg.TTL < time.Second) {
		errs = append(errs, errors.New("negative or sub-second TTL"))
	}
	if cfg.MaxLifetime < 0 {
		errs = append(errs, errors.New("negative MaxLifetime"))
	}
	for _, sc := range cfg.Scopes {
		if !scope.ValidToken(sc) {
			errs = append(errs, fmt.Errorf("scope %q is not a valid scope token (RFC 6749 §3.3)", sc))
		}
	}
	cop := http.NewCrossOriginProtection()
	trusted := make(map[string]bool, len(cfg.TrustedOrigins))
	for _, o := range cfg.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			errs = append(errs, err)
		}
		trusted[o] = true
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultSessionTTL
	}
	maxLifetime := cfg.MaxLifetime.String()
	if cfg.MaxLifetime == 0 {
		cfg.MaxLifetime = DefaultSessionMaxLifetime
		maxLifetime = cfg.MaxLifetime.String() + ", its default" // a cap nobody set
	}
	if cfg.Sliding && cfg.MaxLifetime < cfg.TTL {
		errs = append(errs, fmt.Errorf("MaxLifetime (%s) is shorter than TTL (%s)", maxLifetime, cfg.TTL))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("policy: invalid session config: %w", errors.Join(errs...))
	}
	s := &Sessions{
		p:       p,
		realm:   p.Realm(),
		name:    cfg.Name,
		secure:  !pc.AllowInsecureHTTP,
		ttl:     cfg.TTL,
		maxAge:  cfg.MaxLifetime,
		sliding: cfg.Sliding,
		scopes:  slices.Clone(cfg.Scopes),
		maxBody: pc.MaxRequestBytes,
		now:     pc.Now,
		cop:     cop,
		trusted: trusted,
	}
	if s.secure {
		s.name = hostPrefix + s.name
	}
	return s, nil
}

// CookieName returns the name of the session cookie, with its "__Host-"
// prefix when it has one.
func (s *Sessions) CookieName() string { return s.name }

// cookie returns the session cookie holding raw until expires, for the
// response to r: Secure unless plain HTTP is allowed and r came over it,
// so that allowing plain HTTP does not weaken the cookie of a request
// that came over HTTPS.
func (s *Sessions) cookie(r *http.Request, raw string, expires time.Time) *http.Cookie {
	maxAge := int(secondsUntil(expires, s.now()))
	if maxAge < 1 {
		maxAge = 1
	}
	return &http.Cookie{
		Name:     s.name,
		Value:    raw,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   s.secure || s.p.IsHTTPS(r),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// secondsUntil returns the whole seconds from now to t, rounded up, so
// that the time spent handling a request does not shave a second off.
func secondsUntil(t, now time.Time) int64 {
	return int64((t.Sub(now) + time.Second - 1) / time.Second)
}

// clearCookie tells the browser to drop the session cookie, in the
// response to r.
func (s *Sessions) clearCookie(w http.ResponseWriter, r *http.Request) {
	c := s.cookie(r, "", s.now())
	c.MaxAge = -1
	http.SetCookie(w, c)
}

// SignedInUser returns the ID of the user whose live session cookie r
// carries. It returns "" and a nil error when r has no session cookie, or
// carries it over plain HTTP where the provider requires HTTPS
// (provider.Provider.SecureEnough, as the Cookie policy requires), when
// it carries two session cookies of different values (one was planted:
// neither is used), and when the session is malformed, unknown, expired,
// ended or bound to another client (which ends it, unless the store fails
// to): nobody is signed in. It returns an error when it cannot tell,
// because the store failed (or r's context ended) while the session was
// looked up; the error's text is for logs, not for the browser. It
// neither slides the session nor checks cross-origin protection: it only
// says who is signed in. Its signature fits
// provider.AuthorizeConfig.SignedInUser, which answers such an error as
// temporarily_unavailable rather than sending the user to log in.
func (s *Sessions) SignedInUser(r *http.Request) (string, error) {
	raw, _ := s.sessionToken(r)
	if raw == "" || !s.p.SecureEnough(r) {
		return "", nil
	}
	ti, err := s.validate(r, raw)
	switch {
	case errors.Is(err, provider.ErrInvalidToken):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("policy: read the session: %w", err)
	}
	return ti.Grant.UserID, nil
}

// validate is [provider.Provider.ValidateSession] under the sessions'
// lifetime as configured now: a session older than it (MaxLifetime after
// login when sliding, TTL when not) is [provider.ErrInvalidToken], like
// an expired one, even when its token's expiry, set under a longer
// lifetime before a redeploy, is still ahead. Under the configuration a
// session was started with, its token expires no later than that.
func (s *Sessions) validate(r *http.Request, raw string) (*storage.TokenInfo, error) {
	ti, err := s.p.ValidateSession(r, raw)
	if err != nil {
		return nil, err
	}
	lifetime := s.ttl
	if s.sliding {
		lifetime = s.maxAge
	}
	// ValidateSession judged the token's expiry at now, so a token that
	// expires by the limit (every session started and renewed under this
	// configuration) is within it without a second reading of the clock.
	if limit := ti.Grant.CreatedAt.Add(lifetime); ti.Token.ExpiresAt.After(limit) && !s.now().Before(limit) {
		return nil, provider.ErrInvalidToken
	}
	return ti, nil
}

// CurrentUser returns the ID of the user whose live session cookie r
// carries. It answers false when r has no session cookie or carries it
// over plain HTTP where the provider requires HTTPS, when it carries two
// session cookies of different values, when the session is malformed,
// unknown, expired, ended or bound to another client (which ends it,
// unless the store fails to), and when the store cannot be reached: it
// cannot report an outage, which looks like nobody being signed in. Use
// [Sessions.SignedInUser], which returns an error then, with
// provider.AuthorizeConfig.SignedInUser. It neither slides the session
// nor checks cross-origin protection: it only says who is signed in. Its
// signature fits provider.AuthorizeConfig.CurrentUser.
func (s *Sessions) CurrentUser(r *http.Request) (userID string, ok bool) {
	userID, err := s.SignedInUser(r)
	if err != nil || userID == "" {
		return "", false
	}
	return userID, true
}

// sessionToken returns the value of the session cookie of r, or "". It
// reports ambiguous, and returns "", when r carries several session
// cookies of different values: one was planted (cookie tossing, for a
// longer Path or a parent Domain, which the browser sends first), and
// which one is the browser's own cannot be told. It is on the path of
// every request of the Cookie policies, and so reads the cookies without
// collecting their values (sessionTokens).
func (s *Sessions) sessionToken(r *http.Request) (raw string, ambiguous bool) {
	for _, c := range r.CookiesNamed(s.name) {
		switch {
		case c.Value == "" || c.Value == raw:
		case raw == "":
			raw = c.Value
		default:
			return "", true
		}
	}
	return raw, false
}

// maxSessionCookies is how many different session cookies login and
// logout end in one request. A browser holds one; more were planted
// (cookie tossing), and each costs a store lookup.
const maxSessionCookies = 8

// sessionTokens returns the different non-empty values of the session
// cookies r carries, in the order sent, up to maxSessionCookies+1 of
// them so that the caller can tell there were too many.
func (s *Sessions) sessionTokens(r *http.Request) []string {
	var vals []string
	for _, c := range r.CookiesNamed(s.name) {
		if c.Value == "" || slices.Contains(vals, c.Value) {
			continue
		}
		vals = append(vals, c.Value)
		if len(vals) > maxSessionCookies {
			break
		}
	}
	return vals
}

// renew slides the session raw, whose token expires at expires and whose
// grant was created at created, when a tenth of TTL has passed since its
// last renewal; it sets the renewed cookie on w. A failure to renew is not
// the request's failure: the session stays valid until its old expiry.
func (s *Sessions) renew(w http.ResponseWriter, r *http.Request, raw string, created, expires time.Time) {
	if !s.sliding {
		return
	}
	now := s.now()
	next := now.Add(s.ttl)
	if limit := created.Add(s.maxAge); next.After(limit) {
		next = limit
	}
	if next.Sub(expires) < s.ttl/10 {
		return
	}
	if err := s.p.ExtendSession(r.Context(), raw, next); err != nil {
		return
	}
	http.SetCookie(w, s.cookie(r, raw, next))
	// A shared cache must not keep a response that hands out a live
	// session: set before the app's handler, which could still override it.
	w.Header()["Cache-Control"] = []string{"no-store"}
}

// safeReturnPath reports whether v may be redirected to after login or
// logout: an absolute path on this site ("/account?tab=1"), never a
// scheme-relative or absolute URL, a backslash (which browsers read as a
// slash) or a control character. Its length is bounded by the form's
// (provider.Config.MaxRequestBytes) alone: the authorization endpoint
// sends the whole authorization request, state included, as return_to,
// and takes requests up to that size.
func safeReturnPath(v string) bool {
	if len(v) == 0 || v[0] != '/' {
		return false
	}
	if strings.HasPrefix(v, "//") || strings.ContainsAny(v, "\\") {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return false
		}
	}
	u, err := url.Parse(v)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

// validCookieName reports whether name is an RFC 6265 cookie-name (an
// RFC 7230 token).
func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// errCrossOrigin refuses a cross-origin unsafe request.
var errCrossOrigin = errors.New("cross-origin request")

// checkOrigin refuses an unsafe cookie request (POST, PUT, PATCH, DELETE;
// logging in or out) from another origin than the site's or a trusted
// one: net/http.CrossOriginProtection, which reads Sec-Fetch-Site or,
// from a browser that does not send it, compares Origin with Host, and
// then what that comparison leaves out, the scheme: on a request that
// came over HTTPS, an Origin of http:// is a page of another origin (the
// same host in plain HTTP, which a network attacker can serve).
func (s *Sessions) checkOrigin(r *http.Request) error {
	if err := s.cop.Check(r); err != nil {
		return err
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if o := header.PlainHTTPOrigin(r.Header); o != "" && !s.trusted[o] && s.p.IsHTTPS(r) {
		return errCrossOrigin
	}
	return nil
}
