package provider

import (
	"crypto/rand"
	"errors"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/oauth2provider/oauth2provider/internal/header"
	"github.com/oauth2provider/oauth2provider/internal/query"
	"github.com/oauth2provider/oauth2provider/internal/redirecturi"
	"github.com/oauth2provider/oauth2provider/internal/token"
	"github.com/oauth2provider/oauth2provider/storage"
)

// Error codes of the authorization endpoint (RFC 6749 §4.1.2.1) that the
// token endpoint does not use.
const (
	CodeUnsupportedResponseType = "unsupported_response_type"
	CodeAccessDenied            = "access_denied"
)

// codeServerError is the error of the authorization endpoint (RFC 6749
// §4.1.2.1) for a failure of its own that a 500 cannot tell the client
// through a redirect: a consent template that fails to execute.
const codeServerError = "server_error"

// responseModeQuery is the one response mode of the authorization
// endpoint: the answer is added to the redirect URI's query.
const responseModeQuery = "query"

// Code lifetimes.
const (
	// DefaultCodeTTL is the lifetime of an authorization code when
	// AuthorizeConfig.CodeTTL is zero.
	DefaultCodeTTL = time.Minute
	// MaxCodeTTL is the longest AuthorizeConfig.CodeTTL accepted: a code
	// travels through the browser and should be exchanged at once.
	MaxCodeTTL = time.Minute
	// DefaultReturnToParam is the query parameter that carries the
	// return-to URL to the login page when AuthorizeConfig.ReturnToParam
	// is empty.
	DefaultReturnToParam = "return_to"
)

// Parameters of authorization requests (RFC 6749 §4.1.1, RFC 7636 §4.3)
// and of the consent form.
const (
	paramResponseType        = "response_type"
	paramState               = "state"
	paramCodeChallenge       = "code_challenge"
	paramCodeChallengeMethod = "code_challenge_method"
	paramResponseMode        = "response_mode"
	paramConsentToken        = "consent_token"
	paramDecision            = "decision"
)

// authorizeParams are the parameters of an authorization request the
// endpoint reads; each may appear at most once, and only these travel
// through the login redirect and the consent form.
var authorizeParams = []string{
	paramResponseType, paramClientID, paramRedirectURI, paramScope, paramState,
	paramCodeChallenge, paramCodeChallengeMethod,
}

// AuthorizeConfig configures the authorization endpoint made by
// [Provider.AuthorizeHandler].
type AuthorizeConfig struct {
	// SignedInUser returns the ID of the user signed in on r (for example
	// policy.Sessions.SignedInUser, the user of policy's session
	// cookie): "" with a nil error when nobody is, and an error when it
	// cannot tell, such as when the session store cannot be reached. The
	// endpoint answers that error, whose text is never sent, as an outage:
	// temporarily_unavailable (RFC 6749 §4.1.2.1) redirected to the
	// client, not a trip to the login page. Exactly one of SignedInUser
	// and CurrentUser must be set; prefer SignedInUser.
	SignedInUser func(r *http.Request) (userID string, err error)
	// CurrentUser returns the ID of the user signed in on r, and false
	// when nobody is. It cannot report an outage: a signed-in user whose
	// session cannot be read is sent to the login page as if signed out.
	// Use SignedInUser instead; CurrentUser is kept for existing code.
	// Exactly one of SignedInUser and CurrentUser must be set.
	CurrentUser func(r *http.Request) (userID string, ok bool)
	// LoginURL is where a request without a signed-in user is sent, with
	// the authorization request, as a local path and query, in the
	// ReturnToParam query parameter; after signing in, the login page
	// sends the browser back there. Required. The return-to value always
	// starts with a single "/": a login page should refuse any other.
	LoginURL string
	// ReturnToParam names the query parameter of LoginURL that carries the
	// return-to URL. Empty means "return_to".
	ReturnToParam string

	// ConsentTemplate renders the consent page with a [ConsentPage]. Nil
	// means the embedded default. A replacement must POST a form to
	// .Action with every one of .Fields as a hidden input and a "decision"
	// field of "allow" or "deny". When it fails to execute, the error is
	// logged to Config.Logger (with the consent token it may quote
	// replaced) and the client answered server_error.
	ConsentTemplate *template.Template
	// ErrorTemplate renders the error page shown, instead of a redirect,
	// when the client or redirect URI of a request cannot be trusted; it
	// gets an [ErrorPage]. Nil means the embedded default.
	ErrorTemplate *template.Template
	// ConsentKey is the HMAC-SHA256 key that binds a consent form to its
	// user and request. Nil means a random key made by AuthorizeHandler:
	// fine for one process, but every instance behind a load balancer
	// needs the same key, of at least 32 bytes.
	ConsentKey []byte
	// ConsentTTL is how long a consent form may be submitted after it was
	// shown. Zero means 10 minutes.
	ConsentTTL time.Duration

	// AllowPlainPKCE accepts code_challenge_method=plain from confidential
	// clients. False means only S256 is accepted. Public clients must use
	// S256 whatever this says. The metadata document's
	// code_challenge_methods_supported says ["S256"] either way: it
	// steers every client that reads it to S256, and plain serves only
	// clients built to send it.
	AllowPlainPKCE bool
	// CodeTTL is the lifetime of authorization codes, at most MaxCodeTTL.
	// Zero means DefaultCodeTTL (60 s).
	CodeTTL time.Duration
}

// authorizeHandler is the authorization endpoint.
type authorizeHandler struct {
	p       *Provider
	cfg     AuthorizeConfig
	consent *template.Template
	errPage *template.Template
	cop     *http.CrossOriginProtection
}

// AuthorizeHandler returns the authorization endpoint of the authorization
// code grant with PKCE (RFC 6749 §4.1, RFC 7636, RFC 9700 §2.1); mount it
// for every method at Config.Endpoints.Authorization (e.g.
// /oauth2/authorize; a method-less pattern, which http.ServeMux refuses
// beside a "GET /" catch-all: mount that at "GET /{$}", or mount this
// endpoint as "GET …" and "POST …" patterns), under the issuer's path
// when Config.Issuer has one, where the metadata document advertises it.
// It serves GET and POST and
// answers any other method (HEAD included, which http.ServeMux gives a
// "GET" pattern) with 405 and "Allow: GET, POST". It validates the request
// (refusing one whose URL holds a client_secret, password, code_verifier
// or token: access_token, token, refresh_token or code); shows an error
// page (never a redirect) while the client and redirect URI are not yet
// trusted (a registered redirect URI is trusted only when it can receive
// a code: absolute, no fragment, no scheme a browser runs, plain http on
// a loopback host only, RFC 9700 §2.6, and no parameter of the response
// in its query), and redirects back to the client with error,
// error_description and state once they are; sends a visitor without a
// session to cfg.LoginURL, but redirects temporarily_unavailable to the
// client when cfg.SignedInUser cannot tell who is signed in; shows the
// consent page (skipped for first-party clients), whose POST must be
// same-origin and carry a form token bound to the user and the request;
// and finally redirects to the client with a single-use code. It returns
// an error when cfg is incomplete.
func (p *Provider) AuthorizeHandler(cfg AuthorizeConfig) (http.Handler, error) {
	var errs []error
	switch {
	case cfg.SignedInUser == nil && cfg.CurrentUser == nil:
		errs = append(errs, errors.New("missing AuthorizeConfig.SignedInUser (or CurrentUser)"))
	case cfg.SignedInUser != nil && cfg.CurrentUser != nil:
		errs = append(errs, errors.New("AuthorizeConfig.SignedInUser and CurrentUser are both set: set one"))
	}
	if cfg.LoginURL == "" {
		errs = append(errs, errors.New("missing AuthorizeConfig.LoginURL"))
	} else if _, err := url.Parse(cfg.LoginURL); err != nil || strings.Contains(cfg.LoginURL, "#") {
		errs = append(errs, errors.New("AuthorizeConfig.LoginURL is not a URL without a fragment"))
	}
	if cfg.CodeTTL < 0 || cfg.CodeTTL > MaxCodeTTL || (cfg.CodeTTL > 0 && cfg.CodeTTL < time.Second) {
		errs = append(errs, errors.New("AuthorizeConfig.CodeTTL must be between 1 s and 60 s"))
	}
	if cfg.ConsentTTL < 0 {
		errs = append(errs, errors.New("negative AuthorizeConfig.ConsentTTL"))
	}
	if cfg.ConsentKey != nil && len(cfg.ConsentKey) < 32 {
		errs = append(errs, errors.New("AuthorizeConfig.ConsentKey is shorter than 32 bytes"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(append([]error{errors.New("provider: invalid authorize config")}, errs...)...)
	}
	if cfg.ReturnToParam == "" {
		cfg.ReturnToParam = DefaultReturnToParam
	}
	if cfg.CodeTTL == 0 {
		cfg.CodeTTL = DefaultCodeTTL
	}
	if cfg.ConsentTTL == 0 {
		cfg.ConsentTTL = defaultConsentTTL
	}
	if cfg.ConsentKey == nil {
		cfg.ConsentKey = make([]byte, 32)
		_, _ = rand.Read(cfg.ConsentKey) // never fails (crypto/rand)
	} else {
		cfg.ConsentKey = append([]byte(nil), cfg.ConsentKey...)
	}
	h := &authorizeHandler{p: p, cfg: cfg, consent: cfg.ConsentTemplate, errPage: cfg.ErrorTemplate, cop: http.NewCrossOriginProtection()}
	if h.consent == nil {
		h.consent = defaultConsentTemplate
	}
	if h.errPage == nil {
		h.errPage = defaultErrorTemplate
	}
	return h, nil
}

// authorizeRequest is an authorization request being validated.
type authorizeRequest struct {
	params url.Values // the authorizeParams present, one value each
	client *storage.Client
	// redirectURI is where the answer goes; trusted once set.
	redirectURI string
	// boundRedirectURI is the redirect_uri parameter as sent, or empty
	// when it was left out; the token request must repeat it.
	boundRedirectURI string
	state            string
	scopes           []string
	challenge        string
	method           string
}

// clientAssured reports whether the code can only reach the client the
// request names, so that a first-party client may skip consent: the
// client authenticates at the token endpoint (it is confidential), or the
// code goes to an https redirect URI of another host than this machine,
// which only the client's origin serves. A public client on a loopback
// (or other non-https) redirect URI is not: any program on the user's
// machine can listen there and send the request with its own PKCE
// verifier, so the user is asked (RFC 8252 §8.6).
func (ar *authorizeRequest) clientAssured() bool {
	if !ar.client.Public {
		return true
	}
	u, err := url.Parse(ar.redirectURI)
	return err == nil && u.Scheme == "https" && otherMachine(u.Hostname())
}

// otherMachine reports whether a redirect URI's host names a machine
// other than the user's own as far as its name tells: not localhost (with
// a trailing dot or not), no name under .localhost (RFC 6761 §6.3), no
// name of a hosts file's loopback lines (localhost.localdomain, and any
// name of a single label), no loopback or unspecified address, and no host a browser reads as an IPv4
// address in shorthand ("127.1", "2130706433", "0x7f.1": its last label is
// a number), which would need the same checks. A name that is not ASCII
// is read as a browser maps it first (UTS #46): in compatibility form,
// with the ideographic full stop for a dot, so that "１２７.０.０.１" and
// "ｌｏｃａｌｈｏｓｔ" are this machine too.
func otherMachine(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(browserHost(host)), ".")
	// A single label ("", localhost, and the names /etc/hosts files give
	// this machine: localhost6, ip6-localhost, ip6-loopback, its own
	// name) is resolved there or through a search domain, not as a public
	// name; so are localhost.localdomain and localhost6.localdomain6.
	if !strings.Contains(h, ".") && !strings.Contains(h, ":") ||
		strings.HasSuffix(h, ".localhost") || h == "localhost.localdomain" || h == "localhost6.localdomain6" {
		return false
	}
	if ip, err := netip.ParseAddr(h); err == nil { // loopback or unspecified, mapped or not
		ip = ip.Unmap()
		return !ip.IsUnspecified() && !ip.IsLoopback()
	}
	last := h[strings.LastIndexByte(h, '.')+1:]
	if strings.HasPrefix(last, "0x") || strings.Trim(last, "0123456789") == "" {
		return false
	}
	return true
}

// browserHost approximates the mapping of UTS #46, which browsers apply
// to a host before they resolve it, as far as it can lead to an ASCII name
// or address: without the code points it ignores (see dropIgnored), NFKC
// (fullwidth letters and digits, U+FF0E), then U+3002 (to which NFKC maps
// U+FF61) as ".". An ASCII host is itself.
func browserHost(host string) string {
	for i := 0; i < len(host); i++ {
		if host[i] >= utf8.RuneSelf {
			h := strings.Map(dropIgnored, norm.NFKC.String(strings.Map(dropIgnored, host)))
			return strings.ReplaceAll(h, "\u3002", ".")
		}
	}
	return host
}

// dropIgnored drops (-1) the runes that UTS #46 maps to nothing, which a
// browser removes from a host ("local\u00adhost" is "localhost"): the
// soft hyphen, the zero-width space, the word joiner, the byte order
// mark, variation selectors, the combining grapheme joiner. It drops
// every format character and default ignorable code point, a few more
// than UTS #46 ignores (the others make a browser refuse the host), which
// can only make otherMachine ask for consent more often.
func dropIgnored(r rune) rune {
	if unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point) {
		return -1
	}
	return r
}

func (h *authorizeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setNoStore(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		h.errorPage(w, &Error{Code: CodeInvalidRequest, Description: "the authorization endpoint accepts GET and POST only", Status: http.StatusMethodNotAllowed})
		return
	}
	if !h.p.SecureEnough(r) {
		h.errorPage(w, errInvalidRequest("HTTPS is required"))
		return
	}
	values, e := h.readParams(w, r)
	if e != nil {
		h.p.LogOutage(r, e)
		h.errorPage(w, e)
		return
	}
	decision := r.Method == http.MethodPost && (values.Has(paramConsentToken) || values.Has(paramDecision))
	if decision {
		// The consent form: refuse a cross-origin POST before anything else.
		if err := h.cop.Check(r); err != nil || (header.PlainHTTPOrigin(r.Header) != "" && h.p.IsHTTPS(r)) {
			// CrossOriginProtection compares hosts only: a page of
			// this host in plain HTTP is another origin.
			h.errorPage(w, &Error{Code: CodeAccessDenied, Description: "cross-origin request refused", Status: http.StatusForbidden})
			return
		}
	}
	ar, e := h.validate(r, values)
	if e != nil {
		if ar == nil || ar.redirectURI == "" {
			h.p.LogOutage(r, e)
			h.errorPage(w, e)
		} else {
			h.redirectError(w, r, ar, e)
		}
		return
	}
	// The request is valid, so its redirect URI is trusted: an outage of
	// the sessions goes back to the client.
	userID, err := h.signedInUser(r)
	if err != nil {
		h.redirectError(w, r, ar, errUnavailable(err))
		return
	}
	if userID == "" {
		h.redirectToLogin(w, r, ar)
		return
	}
	switch {
	case decision:
		if !h.checkConsentToken(first(values[paramConsentToken]), userID, ar) {
			h.errorPage(w, &Error{Code: CodeAccessDenied, Description: "the consent form is invalid or expired; start again from the application", Status: http.StatusForbidden})
			return
		}
		// Only "deny" is the user's denial: anything else (a template
		// that posts no decision) is not told to the client as one.
		switch first(values[paramDecision]) {
		case "allow":
			h.issueCode(w, r, ar, userID)
		case "deny":
			h.redirectError(w, r, ar, &Error{Code: CodeAccessDenied, Description: "the user denied the request"})
		default:
			h.errorPage(w, errInvalidRequest(`the consent form must post decision "allow" or "deny"`))
		}
	case ar.client.FirstParty && ar.clientAssured():
		h.issueCode(w, r, ar, userID)
	default:
		h.showConsent(w, r, ar, userID)
	}
}

// signedInUser returns the ID of the user signed in on r, "" when
// nobody is, or an error when cfg.SignedInUser cannot tell.
func (h *authorizeHandler) signedInUser(r *http.Request) (string, error) {
	if h.cfg.SignedInUser != nil {
		return h.cfg.SignedInUser(r)
	}
	userID, ok := h.cfg.CurrentUser(r)
	if !ok {
		return "", nil
	}
	return userID, nil
}

// first returns the first of vs, or "".
func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// readParams returns the parameters of r: the URL query of a GET, the
// form-urlencoded body of a POST (RFC 6749 §3.1), either of at most
// Config.MaxRequestBytes. The parameters come back in the login redirect
// and the consent page, escaped again (a state of quotes, five times its
// size), so a query bounded only by the server's header limit (1 MB by
// default) would let anyone make the endpoint build and hold megabytes
// per request. A repeated client_id or redirect_uri is refused here,
// before either can be trusted, and so is a URL query that names a
// credential (authorizeSecretParams).
func (h *authorizeHandler) readParams(w http.ResponseWriter, r *http.Request) (url.Values, *Error) {
	if query.Names(r.URL.RawQuery, authorizeSecretParams...) {
		return nil, errInvalidRequest("credentials must not be sent in the URL")
	}
	var raw string
	if r.Method == http.MethodGet {
		raw = r.URL.RawQuery
		if int64(len(raw)) > h.p.cfg.MaxRequestBytes {
			return nil, &Error{Code: CodeInvalidRequest, Description: "request URI too long", Status: http.StatusRequestURITooLong}
		}
	} else {
		mt, _, err := mime.ParseMediaType(header.First(r.Header, "Content-Type"))
		if err != nil || !strings.EqualFold(mt, "application/x-www-form-urlencoded") {
			return nil, errInvalidRequest("Content-Type must be application/x-www-form-urlencoded")
		}
		if r.Body == nil {
			return nil, errInvalidRequest("missing request body")
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.p.cfg.MaxRequestBytes))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, &Error{Code: CodeInvalidRequest, Description: "request body too large", Status: http.StatusRequestEntityTooLarge}
			}
			return nil, errInvalidRequest("could not read the request body")
		}
		raw = string(body)
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errInvalidRequest("malformed request parameters")
	}
	// A parameter sent without a value is omitted (RFC 6749 §3.1): it
	// repeats nothing, as at the token endpoint.
	for name, vs := range values {
		if vs = slices.DeleteFunc(vs, func(v string) bool { return v == "" }); len(vs) == 0 {
			delete(values, name)
		} else {
			values[name] = vs
		}
	}
	for _, name := range []string{paramClientID, paramRedirectURI, paramConsentToken, paramDecision} {
		if len(values[name]) > 1 {
			return nil, errInvalidRequest("parameter " + name + " repeated")
		}
	}
	return values, nil
}

// validate checks an authorization request in the order of RFC 6749
// §4.1.2.1: first the client and redirect URI, whose errors are shown to
// the user (ar.redirectURI is empty); then everything else, whose errors
// go back to the client (ar.redirectURI is set).
func (h *authorizeHandler) validate(r *http.Request, values url.Values) (*authorizeRequest, *Error) {
	get := func(name string) string {
		if v := values[name]; len(v) == 1 {
			return v[0]
		}
		return ""
	}
	clientID := get(paramClientID)
	if clientID == "" {
		return nil, errInvalidRequest("missing client_id")
	}
	c, err := h.p.viewClient(r.Context(), clientID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, errInvalidRequest("unknown client")
	case err != nil:
		return nil, errUnavailable(err)
	case c.Disabled:
		return nil, errInvalidRequest("unknown client")
	}
	ar := &authorizeRequest{client: c, params: url.Values{}}
	requested := get(paramRedirectURI)
	switch {
	case requested != "":
		if !matchRedirectURI(c.RedirectURIs, requested) {
			// Compared as exact strings, a raw IRI never matches the
			// percent-encoded URI registered for it: say why.
			if _, err := redirecturi.Parse(requested); errors.Is(err, redirecturi.ErrNotURI) {
				return nil, errInvalidRequest("redirect_uri " + err.Error())
			}
			return nil, errInvalidRequest("redirect_uri is not registered for this client")
		}
		ar.redirectURI, ar.boundRedirectURI = requested, requested
	case len(c.RedirectURIs) == 1:
		ar.redirectURI = c.RedirectURIs[0] // RFC 6749 §3.1.2.3
	case len(c.RedirectURIs) == 0:
		return nil, errInvalidRequest("the client has no registered redirect_uri")
	default:
		return nil, errInvalidRequest("missing redirect_uri")
	}
	// The client may have reached the store without oauth2ctl's checks:
	// never send a code in clear over the network (RFC 9700 §2.6), to a
	// script, or to a URI that is not absolute or has a fragment.
	if err := redirecturi.Check(ar.redirectURI); err != nil {
		return nil, errInvalidRequest("the registered redirect_uri cannot receive an authorization code: " + err.Error())
	}

	// The redirect URI is trusted: errors now go back to the client.
	ar.state = first(values[paramState])
	for _, name := range authorizeParams {
		switch vs := values[name]; {
		case len(vs) > 1:
			return ar, errInvalidRequest("parameter " + name + " repeated")
		case len(vs) == 1 && vs[0] != "":
			ar.params.Set(name, vs[0])
		}
	}
	// The consent form carries state back in an HTML hidden input, which
	// cannot hold control characters or invalid UTF-8 unchanged (NUL
	// becomes U+FFFD, CR and LF are normalized): such a state would make
	// the form token fail on every POST. None of them is VSCHAR (RFC
	// 6749 Appendix A.5).
	if !isText(ar.state, true) {
		return ar, errInvalidRequest("malformed state")
	}
	// The answer goes in the query, the default of response_type=code
	// and the one mode the metadata advertises. A client that asks for
	// another (fragment, form_post, ...) wants the code kept out of the
	// query: refuse rather than put it there anyway.
	switch vs := values[paramResponseMode]; {
	case len(vs) > 1:
		return ar, errInvalidRequest("parameter " + paramResponseMode + " repeated")
	case len(vs) == 1 && vs[0] != "" && vs[0] != responseModeQuery:
		return ar, errInvalidRequest("unsupported response_mode; only query is supported")
	}
	switch rt := get(paramResponseType); rt {
	case "code":
	case "":
		return ar, errInvalidRequest("missing response_type")
	default:
		return ar, &Error{Code: CodeUnsupportedResponseType, Description: "only response_type=code is supported"}
	}
	if !c.AllowsGrant(storage.GrantAuthorizationCode) {
		return ar, errUnauthorizedClient("the client may not use the authorization code grant")
	}
	scopes, e := h.p.grantScopes(c, get(paramScope))
	if e != nil {
		return ar, e
	}
	ar.scopes = scopes
	if e := h.validatePKCE(ar, get(paramCodeChallenge), get(paramCodeChallengeMethod)); e != nil {
		return ar, e
	}
	return ar, nil
}

// validatePKCE checks code_challenge and code_challenge_method (RFC 7636
// §4.3, §4.4.1): public clients must send an S256 challenge; plain is
// refused unless the app allowed it for confidential clients; a
// confidential client may send no challenge at all.
func (h *authorizeHandler) validatePKCE(ar *authorizeRequest, challenge, method string) *Error {
	if challenge == "" {
		if method != "" {
			return errInvalidRequest("code_challenge_method without code_challenge")
		}
		if ar.client.Public {
			return errInvalidRequest("PKCE is required: send code_challenge with code_challenge_method=S256")
		}
		return nil
	}
	if method == "" {
		method = PKCEMethodPlain // RFC 7636 §4.3
	}
	switch method {
	case PKCEMethodS256:
		if !validS256Challenge(challenge) {
			return errInvalidRequest("malformed code_challenge")
		}
	case PKCEMethodPlain:
		if ar.client.Public || !h.cfg.AllowPlainPKCE {
			return errInvalidRequest("code_challenge_method must be S256")
		}
		if !validPKCEString(challenge) {
			return errInvalidRequest("malformed code_challenge")
		}
	default:
		return errInvalidRequest("unsupported code_challenge_method; use S256")
	}
	ar.challenge, ar.method = challenge, method
	return nil
}

// redirectStatus is 302 for a GET and 303 for a POST, so that the browser
// does not repeat the POST at the client (RFC 9700 §4.12).
func redirectStatus(r *http.Request) int {
	if r.Method == http.MethodPost {
		return http.StatusSeeOther
	}
	return http.StatusFound
}

// redirectResponse sends the browser to the client's redirect URI with
// params, plus state and, when the provider has an Issuer, iss (RFC 9207).
func (h *authorizeHandler) redirectResponse(w http.ResponseWriter, r *http.Request, ar *authorizeRequest, params url.Values) {
	if ar.state != "" {
		params.Set(paramState, ar.state)
	}
	if h.p.cfg.Issuer != "" {
		params.Set("iss", h.p.cfg.Issuer)
	}
	w.Header().Set("Location", redirectWith(ar.redirectURI, params))
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(redirectStatus(r))
}

// redirectError sends e back to the client (RFC 6749 §4.1.2.1).
func (h *authorizeHandler) redirectError(w http.ResponseWriter, r *http.Request, ar *authorizeRequest, e *Error) {
	h.p.LogOutage(r, e)
	params := url.Values{"error": {e.Code}}
	if e.Description != "" {
		params.Set("error_description", e.Description)
	}
	h.redirectResponse(w, r, ar, params)
}

// redirectToLogin sends a visitor without a session to the login page,
// with the authorization request as a local return-to URL.
func (h *authorizeHandler) redirectToLogin(w http.ResponseWriter, r *http.Request, ar *authorizeRequest) {
	returnTo := localPath(r) + "?" + ar.params.Encode()
	target := h.cfg.LoginURL
	switch {
	case !strings.Contains(target, "?"):
		target += "?"
	case !strings.HasSuffix(target, "?") && !strings.HasSuffix(target, "&"):
		target += "&"
	}
	target += url.QueryEscape(h.cfg.ReturnToParam) + "=" + url.QueryEscape(returnTo)
	w.Header().Set("Location", target)
	w.WriteHeader(redirectStatus(r))
}

// localPath is the path of r as a URL that stays on this site, for the
// login page's return-to and the consent form's action: a path that a
// browser would read as another host ("//evil.example/…", "/\\evil…"; a
// router that does not clean paths may pass one to the handler) is "/".
func localPath(r *http.Request) string {
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.HasPrefix(path, "/\\") {
		return "/"
	}
	return path
}

// issueCode stores a new authorization code for the user's grant and
// redirects to the client with it (RFC 6749 §4.1.2). The code is a
// KindCode token of a new grant that carries the code's binding; only
// its hash is stored.
func (h *authorizeHandler) issueCode(w http.ResponseWriter, r *http.Request, ar *authorizeRequest, userID string) {
	now := h.p.now()
	grantID, err := token.NewGrantID()
	if err != nil {
		h.redirectError(w, r, ar, errUnavailable(err))
		return
	}
	code, err := mint(storage.KindCode, grantID, now, h.cfg.CodeTTL, nil)
	if err != nil {
		h.redirectError(w, r, ar, errUnavailable(err))
		return
	}
	// No Binding: this request comes from the user's browser, and the
	// tokens go to the client, so the grant is bound at the code
	// exchange, to the client's fingerprint (authorizationCodeGrant).
	g := &storage.Grant{
		ID:        grantID,
		ClientID:  ar.client.ID,
		UserID:    userID,
		Scopes:    ar.scopes,
		CreatedAt: now,
		ExpiresAt: code.record.ExpiresAt,
		Code: &storage.CodeBinding{
			RedirectURI:     ar.boundRedirectURI,
			Challenge:       ar.challenge,
			ChallengeMethod: ar.method,
		},
	}
	if err := h.p.cfg.Tokens.CreateGrant(r.Context(), g, code.record); err != nil {
		h.redirectError(w, r, ar, errUnavailable(err))
		return
	}
	h.redirectResponse(w, r, ar, url.Values{paramCode: {code.raw}})
}
