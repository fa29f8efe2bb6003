package provider

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Parameter names of the endpoints (RFC 6749, RFC 7009, RFC 7662).
const (
	paramGrantType    = "grant_type"
	paramClientID     = "client_id"
	paramClientSecret = "client_secret"
	paramUsername     = "username"
	paramPassword     = "password"
	paramRefreshToken = "refresh_token"
	paramScope        = "scope"
	paramUserID       = "user_id"
	paramToken        = "token"
	paramTokenHint    = "token_type_hint"
	paramCode         = "code"
	paramCodeVerifier = "code_verifier"
	paramRedirectURI  = "redirect_uri"
)

// knownParams may each appear at most once in a request (RFC 6749 §3.1,
// §3.2); a repeated one is invalid_request. Unknown parameters are ignored.
var knownParams = []string{
	paramGrantType, paramClientID, paramClientSecret, paramUsername, paramPassword,
	paramRefreshToken, paramScope, paramUserID, paramToken, paramTokenHint,
	paramCode, paramCodeVerifier, paramRedirectURI,
}

// secretParams carry credentials and are refused in the URL query, where
// they would end up in logs and browser history (RFC 6749 §2.3.1, §3.2).
var secretParams = []string{
	paramClientID, paramClientSecret, paramUsername, paramPassword,
	paramRefreshToken, paramToken, paramCode, paramCodeVerifier,
}

// form is the parsed body of an endpoint request. Every known parameter
// in it appears at most once.
type form url.Values

// get returns the value of a parameter, or "" when it is absent. An empty
// value counts as absent (RFC 6749 §3.1).
func (f form) get(name string) string {
	if v := f[name]; len(v) == 1 {
		return v[0]
	}
	return ""
}

// parseForm reads the application/x-www-form-urlencoded body of an
// endpoint request (RFC 6749 §3.2): the right content type, at most
// MaxRequestBytes, no repeated parameter, no credential in the URL query.
// Only the body counts; the query never supplies a parameter.
func (p *Provider) parseForm(w http.ResponseWriter, r *http.Request) (form, *Error) {
	if q := r.URL.RawQuery; q != "" {
		query, _ := url.ParseQuery(q) // a malformed query still yields what parsed
		for _, name := range secretParams {
			if _, ok := query[name]; ok {
				return nil, errInvalidRequest("credentials must be sent in the request body, not in the URL")
			}
		}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, errInvalidRequest("Content-Type must be application/x-www-form-urlencoded")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.EqualFold(mt, "application/x-www-form-urlencoded") {
		return nil, errInvalidRequest("Content-Type must be application/x-www-form-urlencoded")
	}
	if r.Body == nil {
		return nil, errInvalidRequest("missing request body")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.cfg.MaxRequestBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, &Error{Code: CodeInvalidRequest, Description: "request body too large", Status: http.StatusRequestEntityTooLarge}
		}
		return nil, errInvalidRequest("could not read the request body")
	}
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errInvalidRequest("malformed application/x-www-form-urlencoded body")
	}
	for _, name := range knownParams {
		if len(values[name]) > 1 {
			return nil, errInvalidRequest("parameter " + name + " repeated")
		}
	}
	return form(values), nil
}
