package provider

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/oauth2provider/oauth2provider/internal/header"
)

// Error codes of RFC 6749 §5.2 and RFC 6750 §3.1, plus
// temporarily_unavailable (RFC 6749 §4.1.2.1), which the endpoints use for a
// storage or user-database outage.
const (
	CodeInvalidRequest         = "invalid_request"
	CodeInvalidClient          = "invalid_client"
	CodeInvalidGrant           = "invalid_grant"
	CodeUnauthorizedClient     = "unauthorized_client"
	CodeUnsupportedGrantType   = "unsupported_grant_type"
	CodeInvalidScope           = "invalid_scope"
	CodeInvalidToken           = "invalid_token"
	CodeInsufficientScope      = "insufficient_scope"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
)

// ErrInvalidToken is returned by [Provider.ValidateAccessToken] for a
// token that is malformed, unknown, expired or revoked; the cases are not
// told apart. A client disabled with [Provider.DisableClient] has its
// grants revoked, so its tokens are refused too; validation does not read
// the client, so disable clients through it (or oauth2ctl), not by
// writing Disabled to the store alone. Check it with [errors.Is].
var ErrInvalidToken = errors.New("provider: invalid token")

// Error is an OAuth 2.0 error response (RFC 6749 §5.2): the JSON body's
// error, error_description and error_uri, and the HTTP status. It never
// holds a token, secret or password.
type Error struct {
	// Code is the error code, one of the Code constants.
	Code string
	// Description is human-readable text for the client developer; empty
	// means none.
	Description string
	// URI identifies a page about the error; empty means none.
	URI string
	// Status is the HTTP status code; zero means 400.
	Status int

	// challenge, when not empty, is sent as WWW-Authenticate.
	challenge string
	// cause is the underlying error of an outage, for Unwrap; never sent.
	cause error
}

// Error returns the code and description.
func (e *Error) Error() string {
	if e.Description == "" {
		return "oauth2: " + e.Code
	}
	return "oauth2: " + e.Code + ": " + e.Description
}

// Unwrap returns the error that caused a temporarily_unavailable response,
// or nil.
func (e *Error) Unwrap() error { return e.cause }

func (e *Error) status() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

func errInvalidRequest(desc string) *Error {
	return &Error{Code: CodeInvalidRequest, Description: desc, Status: http.StatusBadRequest}
}

func errInvalidGrant(desc string) *Error {
	return &Error{Code: CodeInvalidGrant, Description: desc, Status: http.StatusBadRequest}
}

func errInvalidScope(desc string) *Error {
	return &Error{Code: CodeInvalidScope, Description: desc, Status: http.StatusBadRequest}
}

func errUnauthorizedClient(desc string) *Error {
	return &Error{Code: CodeUnauthorizedClient, Description: desc, Status: http.StatusBadRequest}
}

// errUnavailable is the answer to a failure of a store or of the user
// database: 503, no detail on the wire, the cause kept for Unwrap.
func errUnavailable(cause error) *Error {
	return &Error{
		Code:        CodeTemporarilyUnavailable,
		Description: "the service is temporarily unavailable, try again later",
		Status:      http.StatusServiceUnavailable,
		cause:       cause,
	}
}

// errorBody is the JSON form of an Error.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
	ErrorURI         string `json:"error_uri,omitempty"`
}

// setNoStore sets the headers RFC 6749 §5.1 requires on every response
// that carries (or might carry) credentials.
func setNoStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// writeJSON writes v as the JSON body with status, and the no-store
// headers.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only our own plain structs are written; cannot happen
		status = http.StatusInternalServerError
		body = []byte(`{"error":"server_error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	setNoStore(h)
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// writeError writes err as an RFC 6749 §5.2 response. An error that is
// not an *Error is answered as temporarily_unavailable (503).
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = errUnavailable(err)
	}
	if e.challenge != "" {
		w.Header().Set("WWW-Authenticate", e.challenge)
	}
	if e.status() == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	SetRetryAfter(w.Header(), e) // a throttled attempt: how long to wait
	writeJSON(w, e.status(), errorBody{Error: e.Code, ErrorDescription: e.Description, ErrorURI: e.URI})
}

// writeError answers e as writeError does and, when e is a 503, logs its
// cause first (see LogOutage).
func (p *Provider) writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	p.LogOutage(r, e)
	writeError(w, e)
}

// LogOutage logs the cause of a 503 (temporarily_unavailable) answered to
// r, at Error to Config.Logger (or slog's default logger, looked up now),
// with the message "oauth2: temporarily unavailable" and r's path: the
// response says only "temporarily unavailable", and without this record
// nothing would tell the operator, or the developer whose AuthChecker
// fails on every call, what failed. err is an error of the provider's
// methods (AuthenticateUser, ValidateAccessToken, ...) or of a store or
// AuthChecker; an [*Error] other than a 503 (a wrong password, a
// throttled attempt) is not logged. The provider's endpoints and the
// policy package call it for each 503 they answer; a handler of the app
// that answers one for an error of the provider may call it too. The
// cause holds no token, secret or password, by the contracts of stores
// and AuthCheckers; it is logged as its text (Error), never as the error
// value, whose fields a handler rendering values field by field would
// print (pgx's ConnectError keeps the connection's password). A request
// whose client went away (context.Canceled) is logged at Debug: nothing
// failed but the client's patience.
func (p *Provider) LogOutage(r *http.Request, err error) {
	if err == nil {
		return
	}
	var e *Error
	if errors.As(err, &e) {
		if e.status() != http.StatusServiceUnavailable {
			return
		}
		if e.cause != nil {
			err = e.cause
		}
	}
	level := slog.LevelError
	if errors.Is(err, context.Canceled) {
		level = slog.LevelDebug
	}
	orDefault(p.cfg.Logger).LogAttrs(r.Context(), level, "oauth2: temporarily unavailable",
		slog.String("path", r.URL.Path), slog.String("err", err.Error()))
}

// WriteError writes err as an OAuth 2.0 error response (RFC 6749 §5.2)
// with the no-store headers: an *[Error] as it is (with Retry-After when
// it is a throttling error), any other error as a 503
// temporarily_unavailable whose detail is not sent. Handlers built
// on the provider use it so that every endpoint answers alike.
func WriteError(w http.ResponseWriter, err error) { writeError(w, err) }

// BasicChallenge returns the WWW-Authenticate value for HTTP Basic client
// authentication in the provider's realm.
func (p *Provider) BasicChallenge() string { return "Basic realm=" + header.Quote(p.cfg.Realm) }

// BearerChallenge returns an RFC 6750 §3 WWW-Authenticate value in the
// provider's realm. code and desc are optional (empty means left out);
// desc must not hold a token.
func (p *Provider) BearerChallenge(code, desc string) string {
	s := "Bearer realm=" + header.Quote(p.cfg.Realm)
	if code != "" {
		s += ", error=" + header.Quote(code)
	}
	if desc != "" {
		s += ", error_description=" + header.Quote(desc)
	}
	return s
}
