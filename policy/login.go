package policy

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/oauth2provider/oauth2provider/internal/header"
	"github.com/oauth2provider/oauth2provider/internal/query"
	"github.com/oauth2provider/oauth2provider/provider"
)

// Form fields of the login and logout handlers.
const (
	FieldUsername = "username"
	FieldPassword = "password"
	// FieldReturnTo names where to send the browser after a successful
	// login or logout: a path on this site, e.g. "/account".
	FieldReturnTo = "return_to"
	// FieldFailureTo, for a plain HTML sign-in form (no script to read a
	// JSON error), names where the login handler sends the browser when a
	// login fails in a way the person can act on: a path on this site,
	// e.g. "/login", checked as return_to is, whose query, when it has
	// one, url.ParseQuery must read. See [Sessions.LoginHandler].
	FieldFailureTo = "failure_to"
)

// Query parameters that the login handler adds to failure_to.
const (
	// ParamError is the error code of a failed login: invalid_grant,
	// invalid_request, slow_down or temporarily_unavailable.
	ParamError = "error"
	// ParamRetryAfter is, after slow_down, how many seconds to wait.
	ParamRetryAfter = "retry_after"
)

// loginResponse is the JSON answer to a login without return_to.
type loginResponse struct {
	UserID    string `json:"user_id"`
	Scope     string `json:"scope,omitempty"`
	ExpiresIn int64  `json:"expires_in"`
}

// LoginHandler returns the login endpoint; mount it at POST /login. It
// takes an application/x-www-form-urlencoded body with username and
// password (never the URL query), checks them with
// [provider.Provider.AuthenticateUser] (the password grant's check, with
// its throttling) and starts a session: a new session record in the
// store and its cookie (HttpOnly, SameSite=Lax, Path=/, Max-Age the TTL,
// Secure with the __Host- prefix unless the provider allows plain HTTP).
// The session cookies the request already carried are ended (up to 8
// different ones: a browser sends one, a cookie planted for a longer Path
// or a parent Domain comes with it), so a login never keeps a session ID
// the browser had before (session fixation).
//
// On success it answers 303 See Other to return_to when the form has one,
// else 200 with JSON user_id, scope and expires_in. A failure sets no
// cookie and is an RFC 6749 §5.2-style JSON error with Cache-Control:
// no-store, like the seed's login and the password grant:
//
//   - 405 invalid_request for another method than POST (Allow: POST);
//   - 403 cross_origin_request for a cross-origin browser request
//     (net/http.CrossOriginProtection; this stops login CSRF, where a
//     hostile page logs the victim into the attacker's account);
//   - 400 invalid_request over plain HTTP (unless allowed), for another
//     content type, a missing or empty username or password (*), a
//     username or password in the URL query (never read from there), or
//     a return_to or failure_to that is not a path on this site;
//   - 413 invalid_request for a body over provider.Config.MaxRequestBytes;
//   - 400 invalid_grant for a wrong username or password (never told
//     apart) (*);
//   - whatever AuthenticateUser answers otherwise: 429 slow_down with
//     Retry-After when throttled (*), 503 temporarily_unavailable when
//     the user database or the store is down (*), 400
//     unsupported_grant_type without provider.Config.Users.
//
// A plain HTML form, which cannot show a JSON error, sends failure_to
// (the form body's, never the URL query's): then the failures marked (*),
// those the person can act on by typing again or waiting, answer 303
// See Other to failure_to with error=<code> added to its query, and
// retry_after=<seconds> after slow_down (any error or retry_after it had
// is replaced; its other parameters are kept, re-encoded in key order;
// its fragment is kept). The redirect carries Cache-Control: no-store,
// sets no cookie and never holds the username, the password or a
// description. Every other failure is an attack or a mistake of the
// page, and stays JSON. failure_to is checked before the password, so a
// form with an unsafe one is refused and nothing is counted.
func (s *Sessions) LoginHandler() http.Handler { return http.HandlerFunc(s.serveLogin) }

func (s *Sessions) serveLogin(w http.ResponseWriter, r *http.Request) {
	form, returnTo, ok := s.checkFormPost(w, r)
	if !ok {
		return
	}
	failureTo := form.Get(FieldFailureTo)
	if failureTo != "" {
		if _, ok := failureLocation(failureTo, provider.CodeInvalidGrant, 0); !ok {
			provider.WriteError(w, invalidRequest("failure_to must be a path on this site"))
			return
		}
	}
	if query.Names(r.URL.RawQuery, FieldUsername, FieldPassword) {
		// Never read from there, but already in the access logs: refused,
		// as at the token endpoint, so that the page that sent it is fixed.
		provider.WriteError(w, invalidRequest("credentials must be sent in the request body, not in the URL"))
		return
	}
	if !s.p.SecureEnough(r) {
		provider.WriteError(w, invalidRequest("HTTPS is required"))
		return
	}
	username, password := form.Get(FieldUsername), form.Get(FieldPassword)
	if username == "" || password == "" {
		loginFailed(w, failureTo, invalidRequest("username and password are required"))
		return
	}
	userID, err := s.p.AuthenticateUser(r, username, password)
	if err != nil {
		if errors.Is(err, provider.ErrInvalidCredentials) {
			loginFailed(w, failureTo, &provider.Error{Code: provider.CodeInvalidGrant,
				Description: "invalid username or password", Status: http.StatusBadRequest})
			return
		}
		s.p.LogOutage(r, err) // a 503's cause; nothing else
		loginFailed(w, failureTo, err)
		return
	}
	raw, expires, err := s.p.CreateSession(r, userID, s.scopes, s.ttl)
	if err != nil {
		s.p.LogOutage(r, err)
		loginFailed(w, failureTo, err) // not an *Error: 503
		return
	}
	// Every one the request carries: one may have been planted in front
	// of the browser's own.
	olds := s.sessionTokens(r)
	for _, old := range olds[:min(len(olds), maxSessionCookies)] {
		_ = s.p.EndSession(r.Context(), old) // best effort: it expires anyway
	}
	http.SetCookie(w, s.cookie(r, raw, expires))
	if returnTo != "" {
		seeOther(w, returnTo)
		return
	}
	writeJSON(w, http.StatusOK, loginResponse{
		UserID:    userID,
		Scope:     strings.Join(s.scopes, " "),
		ExpiresIn: secondsUntil(expires, s.now()),
	})
}

// LogoutHandler returns the logout endpoint; mount it at POST /logout. It
// ends the session of the request's cookie server-side (its grant is
// revoked in the store, so the old cookie value is refused from then on,
// even by a browser that kept it) and clears the cookie. A request with
// several session cookies (one planted for a longer Path or a parent
// Domain, sent before the browser's own) has every one ended. It answers
// 303 See Other to return_to when the form has one, else 204 No Content;
// a request without a live session gets the same answer (logout is
// idempotent).
//
// Failures are JSON errors: 405 for another method than POST; 403
// cross_origin_request for a cross-origin browser request (a hostile page
// cannot log the user out); 400 invalid_request for a return_to that is
// not a path on this site, or for more than 8 different session cookies
// (each would cost a store lookup: none is ended, nor cleared); 503 when
// the store is down, and then the cookie is kept so that the user can try
// again.
func (s *Sessions) LogoutHandler() http.Handler { return http.HandlerFunc(s.serveLogout) }

func (s *Sessions) serveLogout(w http.ResponseWriter, r *http.Request) {
	_, returnTo, ok := s.checkFormPost(w, r)
	if !ok {
		return
	}
	// Every session the request carries is ended: a cookie of the same
	// name planted for a longer Path or a parent Domain comes before the
	// browser's own, which would otherwise live on.
	raws := s.sessionTokens(r)
	if len(raws) > maxSessionCookies {
		provider.WriteError(w, invalidRequest("too many session cookies"))
		return
	}
	for _, raw := range raws {
		if err := s.p.EndSession(r.Context(), raw); err != nil && !errors.Is(err, provider.ErrInvalidToken) {
			s.p.LogOutage(r, err)
			provider.WriteError(w, err)
			return
		}
	}
	s.clearCookie(w, r)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if returnTo != "" {
		seeOther(w, returnTo)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkFormPost checks what login and logout have in common: the method,
// the origin, the content type and return_to. It returns the POST form and
// return_to, or writes the error and returns false.
func (s *Sessions) checkFormPost(w http.ResponseWriter, r *http.Request) (url.Values, string, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		provider.WriteError(w, &provider.Error{Code: provider.CodeInvalidRequest,
			Description: "POST only", Status: http.StatusMethodNotAllowed})
		return nil, "", false
	}
	if err := s.checkOrigin(r); err != nil {
		provider.WriteError(w, &provider.Error{Code: "cross_origin_request",
			Description: "cross-origin request refused", Status: http.StatusForbidden})
		return nil, "", false
	}
	form := url.Values{}
	if ct := header.First(r.Header, "Content-Type"); r.ContentLength != 0 || ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			provider.WriteError(w, invalidRequest("the body must be application/x-www-form-urlencoded"))
			return nil, "", false
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		// The body alone: r.ParseForm would also parse the URL query,
		// which is never read, and fail a well-formed body on it.
		body, err := io.ReadAll(r.Body)
		if err == nil {
			form, err = url.ParseQuery(string(body))
		}
		if err != nil {
			if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
				provider.WriteError(w, &provider.Error{Code: provider.CodeInvalidRequest,
					Description: "request body too large", Status: http.StatusRequestEntityTooLarge})
			} else {
				provider.WriteError(w, invalidRequest("malformed form body"))
			}
			return nil, "", false
		}
	}
	returnTo := form.Get(FieldReturnTo)
	if returnTo != "" && !safeReturnPath(returnTo) {
		provider.WriteError(w, invalidRequest("return_to must be a path on this site"))
		return nil, "", false
	}
	return form, returnTo, true
}

// loginFailed answers a failed login: with a redirect to failureTo, when
// the form has one and err is a failure the person can act on (a missing
// field or a wrong password: 400 invalid_request or invalid_grant;
// throttled: 429; an outage: 503), else with the JSON error.
func loginFailed(w http.ResponseWriter, failureTo string, err error) {
	if failureTo == "" {
		provider.WriteError(w, err)
		return
	}
	code, status := provider.CodeTemporarilyUnavailable, http.StatusServiceUnavailable // what WriteError makes of an error not an *Error
	if e, ok := errors.AsType[*provider.Error](err); ok {
		code, status = e.Code, cmp.Or(e.Status, http.StatusBadRequest)
	}
	var retry int64
	switch {
	case status == http.StatusBadRequest && (code == provider.CodeInvalidGrant || code == provider.CodeInvalidRequest),
		status == http.StatusServiceUnavailable:
	case status == http.StatusTooManyRequests:
		retry, _ = provider.RetryAfterSeconds(err) // as the Retry-After header
	default:
		provider.WriteError(w, err)
		return
	}
	loc, ok := failureLocation(failureTo, code, retry)
	if !ok { // checked before: cannot happen
		provider.WriteError(w, err)
		return
	}
	seeOther(w, loc)
}

// failureLocation returns the local path to, with error=code and, when
// retryAfter > 0, retry_after=<retryAfter> in its query in place of any
// it had, built with net/url (its path kept as sent); ok is false when
// to is not a path on this site (safeReturnPath), its query is one
// url.ParseQuery cannot read, or the result is not a path on this site
// either.
func failureLocation(to, code string, retryAfter int64) (loc string, ok bool) {
	if !safeReturnPath(to) {
		return "", false
	}
	u, err := url.Parse(to)
	if err != nil {
		return "", false
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", false
	}
	q.Set(ParamError, code)
	q.Del(ParamRetryAfter)
	if retryAfter > 0 {
		q.Set(ParamRetryAfter, strconv.FormatInt(retryAfter, 10))
	}
	// The path as sent, which return_to would be redirected to, not
	// u.Path re-encoded: "/%2F " would come out as "//%20", another host.
	// url.URL.String writes an Opaque verbatim.
	path := to
	if i := strings.IndexAny(to, "?#"); i >= 0 {
		path = to[:i]
	}
	loc = (&url.URL{Opaque: path, RawQuery: q.Encode(), Fragment: u.Fragment, RawFragment: u.RawFragment}).String()
	return loc, safeReturnPath(loc) // checked all the same
}

func invalidRequest(desc string) *provider.Error {
	return &provider.Error{Code: provider.CodeInvalidRequest, Description: desc, Status: http.StatusBadRequest}
}

// seeOther redirects the browser to the local path to with a GET.
func seeOther(w http.ResponseWriter, to string) {
	h := w.Header()
	h.Set("Location", to)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}

// writeJSON writes v as a JSON body with status and no-store headers.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v) // our own plain structs: cannot fail
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
