package policy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/policy"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
	"github.com/oauth2provider/oauth2provider/storage/memory"
)

// exampleProvider is a provider over the memory store with user
// johndoe/foobar42 (ID "1") and the public client "spa". It keeps the safe
// default of HTTPS only: the examples' requests have https URLs, which
// httptest.NewRequest marks as arriving over TLS.
func exampleProvider() *provider.Provider {
	store := memory.New(memory.Config{})
	_ = store.CreateClient(context.Background(), &storage.Client{
		ID: "spa", Public: true, GrantTypes: []string{storage.GrantPassword}, Scopes: []string{"read", "write"},
	})
	var users authcheck.Static
	_ = users.Add("johndoe", "foobar42", "1")
	p, err := provider.New(provider.Config{Clients: store, Tokens: store, Users: &users})
	if err != nil {
		panic(err)
	}
	return p
}

// whoami answers with the caller's identity.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id, _ := policy.IdentityFrom(r.Context())
	fmt.Fprintf(w, "user=%s auth=%s scopes=%v", id.UserID, id.Method, id.Scopes)
})

// send serves one request and prints the answer's status and body.
func send(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Body.String())))
	return w
}

// accessToken gets johndoe an access token with the given scopes from
// p's token endpoint, as the API client "spa" does.
func accessToken(p *provider.Provider, scope string) string {
	w := httptest.NewRecorder()
	p.TokenHandler().ServeHTTP(w, postForm("https://app.example/oauth2/token", url.Values{
		"grant_type": {"password"}, "client_id": {"spa"}, "username": {"johndoe"}, "password": {"foobar42"}, "scope": {scope},
	}))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil || w.Code != http.StatusOK {
		panic(w.Body.String())
	}
	return tok.AccessToken
}

func postForm(path string, form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// A browser logs in with a form, uses its session cookie, and logs out;
// the old cookie value is refused afterwards.
func ExampleCookie() {
	p := exampleProvider()
	sessions, err := policy.NewSessions(p, policy.SessionConfig{Scopes: []string{"read"}})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /login", sessions.LoginHandler())
	mux.Handle("POST /logout", sessions.LogoutHandler())
	mux.Handle("GET /account", policy.Cookie(sessions)(whoami))

	w := send(mux, postForm("https://app.example/login", url.Values{"username": {"johndoe"}, "password": {"foobar42"}}))
	cookie := w.Result().Cookies()[0]
	fmt.Println("cookie:", cookie.Name, "HttpOnly:", cookie.HttpOnly, "Secure:", cookie.Secure)

	account := httptest.NewRequest(http.MethodGet, "https://app.example/account", nil)
	account.AddCookie(cookie)
	send(mux, account)

	logout := postForm("https://app.example/logout", url.Values{})
	logout.AddCookie(cookie)
	send(mux, logout)
	send(mux, account)
	// Output:
	// 200 {"user_id":"1","scope":"read","expires_in":86400}
	// cookie: __Host-session HttpOnly: true Secure: true
	// 200 user=1 auth=cookie scopes=[read]
	// 204
	// 401 {"error":"invalid_token","error_description":"the session is invalid, expired or ended"}
}

// One route for browsers and API clients: the bearer token counts when an
// Authorization header is present, the cookie otherwise; a cross-site
// POST that relies on the cookie is refused.
func ExampleCookieOrBearer() {
	p := exampleProvider()
	sessions, err := policy.NewSessions(p, policy.SessionConfig{Scopes: []string{"read"}})
	if err != nil {
		panic(err)
	}
	me := policy.CookieOrBearer(sessions)(whoami)

	// An API client with a bearer token.
	r := httptest.NewRequest(http.MethodGet, "https://app.example/api/me", nil)
	r.Header.Set("Authorization", "Bearer "+accessToken(p, "read write"))
	send(me, r)

	// A browser with a session cookie.
	w := httptest.NewRecorder()
	sessions.LoginHandler().ServeHTTP(w, postForm("https://app.example/login", url.Values{"username": {"johndoe"}, "password": {"foobar42"}}))
	cookie := w.Result().Cookies()[0]
	r = httptest.NewRequest(http.MethodGet, "https://app.example/api/me", nil)
	r.AddCookie(cookie)
	send(me, r)

	// A page on another site posting with the browser's cookie.
	r = httptest.NewRequest(http.MethodPost, "https://app.example/api/me", nil)
	r.AddCookie(cookie)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	send(me, r)
	// Output:
	// 200 user=1 auth=bearer scopes=[read write]
	// 200 user=1 auth=cookie scopes=[read]
	// 403 {"error":"cross_origin_request","error_description":"cross-origin request refused"}
}

// Require goes after a policy and checks the identity's scopes.
func ExampleRequire() {
	p := exampleProvider()
	sessions, err := policy.NewSessions(p, policy.SessionConfig{Scopes: []string{"read"}})
	if err != nil {
		panic(err)
	}
	write := policy.Chain(policy.CookieOrBearer(sessions), policy.Require("write"))(whoami)

	w := httptest.NewRecorder()
	sessions.LoginHandler().ServeHTTP(w, postForm("https://app.example/login", url.Values{"username": {"johndoe"}, "password": {"foobar42"}}))
	r := httptest.NewRequest(http.MethodGet, "https://app.example/notes", nil)
	r.AddCookie(w.Result().Cookies()[0])
	w = send(write, r)
	fmt.Println(w.Header().Get("WWW-Authenticate"))
	// Output:
	// 403 {"error":"insufficient_scope","error_description":"the request requires the scope write"}
	// Bearer realm="oauth2provider", error="insufficient_scope", scope="write"
}

// Bearer guards an API: the handler behind it reads who called with
// IdentityFrom. A request without a token gets the RFC 6750 challenge, and
// one over plain HTTP is refused before its token is looked at.
func ExampleBearer() {
	p := exampleProvider()
	api := policy.Bearer(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := policy.IdentityFrom(r.Context()) // always there behind Bearer
		fmt.Fprintf(w, "hello %s via %s, scopes %v", id.UserID, id.ClientID, id.Scopes)
	}))
	token := accessToken(p, "read")

	r := httptest.NewRequest(http.MethodGet, "https://app.example/api/hello", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	send(api, r)

	w := send(api, httptest.NewRequest(http.MethodGet, "https://app.example/api/hello", nil))
	fmt.Println(w.Header().Get("WWW-Authenticate"))

	r = httptest.NewRequest(http.MethodGet, "http://app.example/api/hello", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	send(api, r)
	// Output:
	// 200 hello 1 via spa, scopes [read]
	// 401 {"error":"unauthorized","error_description":"a bearer token is required"}
	// Bearer realm="oauth2provider"
	// 400 {"error":"invalid_request","error_description":"HTTPS is required"}
}

// NewSessions with its safe defaults: the cookie is Secure with the
// __Host- prefix. A login form posts to LoginHandler with return_to and is
// sent on there; a logout form posts to LogoutHandler, which ends the
// session in the store and clears the cookie.
func ExampleNewSessions() {
	sessions, err := policy.NewSessions(exampleProvider(), policy.SessionConfig{
		Scopes:  []string{"read"},
		TTL:     8 * time.Hour,
		Sliding: true, // renewed on use, for at most MaxLifetime (30 days)
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /login", sessions.LoginHandler())
	mux.Handle("POST /logout", sessions.LogoutHandler())
	fmt.Println(sessions.CookieName())

	send(mux, postForm("https://app.example/login", url.Values{"username": {"johndoe"}, "password": {"wrong"}}))
	w := send(mux, postForm("https://app.example/login", url.Values{
		"username": {"johndoe"}, "password": {"foobar42"}, "return_to": {"/account"},
	}))
	fmt.Println(w.Header().Get("Location"))

	logout := postForm("https://app.example/logout", url.Values{"return_to": {"/"}})
	logout.AddCookie(w.Result().Cookies()[0])
	w = send(mux, logout)
	fmt.Println(w.Header().Get("Location"), w.Result().Cookies()[0].MaxAge)
	// Output:
	// __Host-session
	// 400 {"error":"invalid_grant","error_description":"invalid username or password"}
	// 303
	// /account
	// 303
	// / -1
}
