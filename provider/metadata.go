package provider

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/oauth2provider/oauth2provider/storage"
)

// Default endpoint paths: the quickstart's routes.
const (
	DefaultTokenPath         = "/oauth2/token" // #nosec G101 -- a URL path, not a credential
	DefaultRevocationPath    = "/oauth2/revoke"
	DefaultIntrospectionPath = "/oauth2/introspect"
	// WellKnownMetadataPath is where RFC 8414 §3 puts the metadata of an
	// issuer without a path.
	WellKnownMetadataPath = "/.well-known/oauth-authorization-server"
)

// EndpointNotServed is the path that, given in [Endpoints], leaves that
// endpoint out of the metadata document.
const EndpointNotServed = "-"

// Endpoints are the paths, relative to Config.Issuer, at which the app
// mounts the provider's handlers. The metadata document advertises them:
// with an issuer that has a path ("https://example.com/tenant"), mount
// each handler under it ("/tenant/oauth2/token"), as [Provider.Routes]
// does. [New] refuses a path that is not clean, needs escaping or holds
// "{" or "}", as it does the issuer's.
type Endpoints struct {
	// Token is the path of [Provider.TokenHandler]. Empty means
	// [DefaultTokenPath].
	Token string
	// Revocation is the path of [Provider.RevokeHandler]. Empty means
	// [DefaultRevocationPath]; [EndpointNotServed] means not mounted.
	Revocation string
	// Introspection is the path of [Provider.IntrospectHandler]. Empty
	// means [DefaultIntrospectionPath]; [EndpointNotServed] means not
	// mounted.
	Introspection string
	// Authorization is the path of the handler made by
	// [Provider.AuthorizeHandler]. Empty (or [EndpointNotServed]) means
	// not mounted: the metadata then advertises no authorization endpoint,
	// no response type and no authorization_code grant.
	Authorization string
}

// withDefaults fills in the default paths.
func (e Endpoints) withDefaults() Endpoints {
	if e.Token == "" {
		e.Token = DefaultTokenPath
	}
	if e.Revocation == "" {
		e.Revocation = DefaultRevocationPath
	}
	if e.Introspection == "" {
		e.Introspection = DefaultIntrospectionPath
	}
	return e
}

// validateEndpoints checks Config.Issuer (RFC 8414 §2: an https URL
// without query or fragment, or http with AllowInsecureHTTP) and the
// endpoint paths, which go after the
// issuer's path and so follow the same rules ([routablePath]).
func validateEndpoints(cfg *Config) []error {
	var errs []error
	if cfg.Issuer != "" {
		u, err := url.Parse(cfg.Issuer)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(cfg.Issuer, "#") || u.User != nil {
			errs = append(errs, errors.New("invalid Issuer: want an https (or, for development, http) URL without user info, query or fragment"))
		} else if u.Scheme == "http" && !cfg.AllowInsecureHTTP {
			// The endpoints would refuse every plain HTTP request, and
			// clients would be told to send their secrets in clear.
			errs = append(errs, errors.New("invalid Issuer: an http issuer needs AllowInsecureHTTP (RFC 8414 §2 wants https)"))
		} else if !routablePath(u) {
			errs = append(errs, errors.New(`invalid Issuer: its path must be clean ("/a/b", no "//", "." or ".."), need no escaping and hold no "{" or "}"`))
		}
	}
	for _, e := range []struct{ name, path string }{
		{"Endpoints.Token", cfg.Endpoints.Token},
		{"Endpoints.Revocation", cfg.Endpoints.Revocation},
		{"Endpoints.Introspection", cfg.Endpoints.Introspection},
		{"Endpoints.Authorization", cfg.Endpoints.Authorization},
	} {
		if e.path == "" || e.path == EndpointNotServed {
			continue
		}
		if !strings.HasPrefix(e.path, "/") {
			errs = append(errs, errors.New("invalid "+e.name+`: want a path starting with "/", or "-"`))
		} else if !routablePath(&url.URL{Path: e.path}) {
			// It goes after the issuer's path, in the metadata's URLs
			// and in Provider.Routes' patterns.
			errs = append(errs, errors.New("invalid "+e.name+`: the path must be clean ("/a/b", no "//", "." or ".."), need no escaping and hold no "{" or "}"`))
		}
	}
	if cfg.Endpoints.Token == EndpointNotServed {
		errs = append(errs, errors.New(`invalid Endpoints.Token: the token endpoint cannot be "-"`))
	}
	return errs
}

// routablePath reports whether an issuer's path can go in front of the
// endpoints' paths as they are mounted (see Provider.Routes) and be served
// where the metadata document says: clean, written as it is meant, and
// without the braces of a net/http pattern.
func routablePath(u *url.URL) bool {
	p := strings.TrimSuffix(u.Path, "/")
	if p == "" { // "" or "/"
		return true
	}
	return p != "/" && path.Clean(p) == p && u.EscapedPath() == u.Path // escaping covers "{", "}" and spaces
}

// Client authentication methods each endpoint accepts.
var (
	tokenAuthMethods      = []string{authMethodBasic, authMethodPost, authMethodNone}
	revocationAuthMethods = []string{authMethodBasic, authMethodPost, authMethodNone}
	// Introspection tells about tokens of any client, so only a client
	// that proves it holds a secret may call it.
	introspectionAuthMethods = []string{authMethodBasic, authMethodPost}
)

// metadata is the authorization server metadata document (RFC 8414 §2).
type metadata struct {
	Issuer                                    string   `json:"issuer"`
	TokenEndpoint                             string   `json:"token_endpoint"`
	RevocationEndpoint                        string   `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint,omitempty"`
	GrantTypesSupported                       []string `json:"grant_types_supported"`
	ResponseTypesSupported                    []string `json:"response_types_supported"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	ScopesSupported                           []string `json:"scopes_supported,omitempty"`
	// Set when the authorization endpoint is served (RFC 8414, RFC 7636
	// §6.2, RFC 9207 §3).
	AuthorizationEndpoint             string   `json:"authorization_endpoint,omitempty"`
	ResponseModesSupported            []string `json:"response_modes_supported,omitempty"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
	AuthorizationResponseIssSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
}

// grantTypes lists the grant types the token endpoint serves, in the
// order of [Provider.TokenHandler]'s switch.
func (p *Provider) grantTypes() []string {
	var gts []string
	if p.cfg.Users != nil {
		gts = append(gts, storage.GrantPassword)
	}
	gts = append(gts, storage.GrantRefreshToken, storage.GrantClientCredentials)
	if a := p.cfg.Endpoints.Authorization; a != "" && a != EndpointNotServed {
		gts = append(gts, storage.GrantAuthorizationCode)
	}
	return gts
}

// endpointURL joins the issuer and an endpoint path.
func (p *Provider) endpointURL(path string) string {
	return strings.TrimSuffix(p.cfg.Issuer, "/") + path
}

// metadata returns the authorization server metadata (RFC 8414 §2) as the
// provider is configured: endpoint URLs are Config.Issuer joined with
// Config.Endpoints.
func (p *Provider) metadata() *metadata {
	e := p.cfg.Endpoints
	m := &metadata{
		Issuer:                            p.cfg.Issuer,
		TokenEndpoint:                     p.endpointURL(e.Token),
		GrantTypesSupported:               p.grantTypes(),
		ResponseTypesSupported:            []string{}, // no authorization endpoint
		TokenEndpointAuthMethodsSupported: tokenAuthMethods,
		ScopesSupported:                   p.cfg.Scopes,
	}
	if e.Revocation != EndpointNotServed {
		m.RevocationEndpoint = p.endpointURL(e.Revocation)
		m.RevocationEndpointAuthMethodsSupported = revocationAuthMethods
	}
	if e.Introspection != EndpointNotServed {
		m.IntrospectionEndpoint = p.endpointURL(e.Introspection)
		m.IntrospectionEndpointAuthMethodsSupported = introspectionAuthMethods
	}
	if e.Authorization != "" && e.Authorization != EndpointNotServed {
		m.AuthorizationEndpoint = p.endpointURL(e.Authorization)
		m.ResponseTypesSupported = []string{"code"}
		// Not left out: its default is ["query", "fragment"] (RFC 8414 §2).
		m.ResponseModesSupported = []string{responseModeQuery}
		m.CodeChallengeMethodsSupported = []string{PKCEMethodS256}
		m.AuthorizationResponseIssSupported = true
	}
	return m
}

// MetadataPath returns the path to mount [Provider.MetadataHandler] at
// (RFC 8414 §3): [WellKnownMetadataPath], followed by the path of
// Config.Issuer when it has one.
func (p *Provider) MetadataPath() string {
	return WellKnownMetadataPath + p.issuerPath()
}

// issuerPath returns the path of Config.Issuer without a trailing slash:
// "" for an issuer without one.
func (p *Provider) issuerPath() string {
	u, err := url.Parse(p.cfg.Issuer)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

// MetadataHandler returns the authorization server metadata endpoint (RFC
// 8414); mount it at GET [Provider.MetadataPath], which is
// /.well-known/oauth-authorization-server for an issuer without a path.
// It advertises exactly what the provider is configured to do: the token,
// revocation and introspection endpoints at Config.Issuer joined with
// Config.Endpoints, the grant types the token endpoint serves, the client
// authentication methods of each endpoint, and Config.Scopes. The
// response may be cached for an hour. It needs Config.Issuer: without one
// it answers 404. Like the other endpoints it refuses a request that did
// not come over HTTPS (400 invalid_request) unless
// Config.AllowInsecureHTTP is set: metadata must be fetched over TLS (RFC
// 8414 §7.1), and a client that fetches it in the clear could be pointed
// at another token endpoint.
func (p *Provider) MetadataHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, &Error{Code: CodeInvalidRequest, Description: "the metadata endpoint accepts GET only", Status: http.StatusMethodNotAllowed})
			return
		}
		if !p.SecureEnough(r) {
			writeError(w, errInvalidRequest("HTTPS is required"))
			return
		}
		if p.cfg.Issuer == "" {
			writeError(w, &Error{Code: CodeInvalidRequest, Description: "no issuer is configured", Status: http.StatusNotFound})
			return
		}
		body, err := json.Marshal(p.metadata())
		if err != nil { // plain strings only; cannot happen
			writeError(w, err)
			return
		}
		body = append(body, '\n')
		h := w.Header()
		h.Set("Content-Type", "application/json;charset=utf-8")
		// Unlike the other endpoints' responses, the metadata holds no
		// credential: clients may cache it.
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}
