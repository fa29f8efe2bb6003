package provider

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/oauth2provider/oauth2provider/internal/header"
	"github.com/oauth2provider/oauth2provider/internal/query"
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
// §3.2); a repeated one is invalid_request. One sent without a value
// counts as omitted, so not as a repetition. Unknown parameters are
// ignored.
var knownParams = [...]string{
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

// formContentType is the media type of endpoint request bodies.
const formContentType = "application/x-www-form-urlencoded"

// form is the parsed body of an endpoint request: the value of each known
// parameter, which appears at most once. Unknown parameters are dropped.
type form struct {
	vals [len(knownParams)]string
}

// paramIndex is the index of a known parameter in knownParams, or -1.
func paramIndex(name string) int {
	for i, k := range knownParams {
		if k == name {
			return i
		}
	}
	return -1
}

// get returns the value of a parameter, or "" when it is absent. An empty
// value counts as absent (RFC 6749 §3.1).
func (f *form) get(name string) string {
	if i := paramIndex(name); i >= 0 {
		return f.vals[i]
	}
	return ""
}

// errRepeated reports a known parameter that appears more than once.
type errRepeated string

func (e errRepeated) Error() string { return "parameter " + string(e) + " repeated" }

// parseFormBody parses an application/x-www-form-urlencoded body as
// net/url.ParseQuery does (the same errors: a ';' separator or a bad
// percent-escape anywhere makes the whole body malformed), keeping only
// the known parameters. A known parameter given twice is an errRepeated,
// reported only when the body is otherwise well formed; one sent without
// a value is omitted (RFC 6749 §3.1) and repeats nothing. Values that need
// no unescaping are substrings of raw.
func parseFormBody(raw string) (form, error) {
	var f form
	var seen, repeated uint32
	var malformed error
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if strings.IndexByte(pair, ';') >= 0 {
			malformed = errors.New("invalid semicolon separator")
			continue
		}
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		key, err := query.Unescape(key)
		if err != nil {
			malformed = err
			continue
		}
		i := paramIndex(key)
		if i < 0 {
			// Unknown: ignored, but its value must still be well formed.
			if _, err := query.Unescape(value); err != nil {
				malformed = err
			}
			continue
		}
		if value, err = query.Unescape(value); err != nil {
			malformed = err
			continue
		}
		if value == "" {
			// Sent without a value: omitted (RFC 6749 §3.1), so it
			// repeats nothing and nothing repeats it.
			continue
		}
		bit := uint32(1) << i
		if seen&bit != 0 {
			repeated |= bit
			continue
		}
		seen |= bit
		f.vals[i] = value
	}
	switch {
	case malformed != nil:
		return form{}, malformed
	case repeated != 0:
		for i := range knownParams {
			if repeated&(1<<i) != 0 {
				return form{}, errRepeated(knownParams[i])
			}
		}
	}
	return f, nil
}

// authorizeSecretParams are the credentials refused in the URL query of
// the authorization endpoint, whose other parameters (client_id, state,
// code_challenge...) belong there: a client secret, a password or a
// token (access_token, RFC 6750 §2.3's name; token, the revocation and
// introspection endpoints'; refresh_token; an authorization code) would
// end up in logs and browser history, and a code_verifier sent with its
// challenge would defeat PKCE (RFC 7636 §1).
var authorizeSecretParams = []string{
	paramClientSecret, paramPassword, paramRefreshToken, paramCodeVerifier,
	paramToken, paramCode, "access_token",
}

// queryHasSecret reports whether the raw URL query q names one of
// secretParams.
func queryHasSecret(q string) bool { return query.Names(q, secretParams...) }

// parseForm reads the application/x-www-form-urlencoded body of an
// endpoint request (RFC 6749 §3.2): the right content type, at most
// MaxRequestBytes, no repeated parameter, no credential in the URL query.
// Only the body counts; the query never supplies a parameter.
func (p *Provider) parseForm(w http.ResponseWriter, r *http.Request) (form, *Error) {
	if queryHasSecret(r.URL.RawQuery) {
		return form{}, errInvalidRequest("credentials must be sent in the request body, not in the URL")
	}
	if ct := header.First(r.Header, "Content-Type"); ct != formContentType {
		mt, _, err := mime.ParseMediaType(ct)
		if ct == "" || err != nil || !strings.EqualFold(mt, formContentType) {
			return form{}, errInvalidRequest("Content-Type must be application/x-www-form-urlencoded")
		}
	}
	body, e := p.readBody(w, r)
	if e != nil {
		return form{}, e
	}
	// The body is never written again, so the form's values can be views
	// of it rather than copies.
	raw := unsafeString(body)
	f, err := parseFormBody(raw)
	if err != nil {
		if rep, ok := err.(errRepeated); ok {
			return form{}, errInvalidRequest(rep.Error())
		}
		return form{}, errInvalidRequest("malformed application/x-www-form-urlencoded body")
	}
	return f, nil
}

// initialBodyBuf is the most of a body of known length read into its
// first buffer: an ordinary endpoint request, of a few hundred bytes, is
// read in one allocation of its size, and a larger body into buffers that
// grow with what has arrived.
const initialBodyBuf = 4 << 10

// readBody reads the body of an endpoint request, of at most
// MaxRequestBytes. A body of known length (net/http's server delivers
// exactly ContentLength bytes) is read into a buffer of that size, at most
// initialBodyBuf at first and then at most as much again as has arrived:
// a slow client that declares a large Content-Length and trickles its
// body (or sends none) holds about three times what it has sent, plus 4
// KiB, not the whole declared length. Any other body is read through
// http.MaxBytesReader.
func (p *Provider) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *Error) {
	if r.Body == nil {
		return nil, errInvalidRequest("missing request body")
	}
	if n := r.ContentLength; n > 0 {
		if n > p.cfg.MaxRequestBytes {
			return nil, errBodyTooLarge()
		}
		var body []byte
		for int64(len(body)) < n {
			got := int64(len(body))
			chunk := min(n-got, max(got, initialBodyBuf))
			body = slices.Grow(body, int(chunk)+1) // +1: room for the check below
			if _, err := io.ReadFull(r.Body, body[got:got+chunk]); err != nil {
				return nil, errInvalidRequest("could not read the request body")
			}
			body = body[:got+chunk]
		}
		// net/http's server ends the body there; a wrapper's (one that
		// decompresses, say) might not, and a parameter past it would be
		// dropped unseen.
		if k, _ := r.Body.Read(body[n : n+1]); k > 0 {
			return nil, errInvalidRequest("request body longer than its Content-Length")
		}
		return body, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.cfg.MaxRequestBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, errBodyTooLarge()
		}
		return nil, errInvalidRequest("could not read the request body")
	}
	return body, nil
}

// errBodyTooLarge is the 413 answer to a body over MaxRequestBytes.
func errBodyTooLarge() *Error {
	return &Error{Code: CodeInvalidRequest, Description: "request body too large", Status: http.StatusRequestEntityTooLarge}
}
