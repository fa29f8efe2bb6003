package provider_test

import (
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/oauth2"

	"github.com/oauth2provider/oauth2provider/internal/browsertest"
	"github.com/oauth2provider/oauth2provider/provider"
)

// browserConsent is a consent page that approves itself once loaded, so
// that headless Chromium (which cannot click) goes through it. It keeps
// the contract of the default page: POST to .Action with every field and
// decision=allow.
var browserConsent = template.Must(template.New("consent").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>consent</title></head><body>
<form method="post" action="{{.Action}}" id="consent">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<button type="submit" name="decision" value="allow">Allow</button>
</form>
<script>window.addEventListener('load', function () { document.querySelector('button[value=allow]').click(); });</script>
</body></html>`))

// browserLogin is a login page that fills in and submits its form.
var browserLogin = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>login</title></head><body>
<form method="post" action="/login" id="login">
<input name="username" value="johndoe"><input name="password" type="password" value="foobar42">
<input type="hidden" name="return_to" value="{{.}}">
<button type="submit">Log in</button>
</form>
<script>window.addEventListener('load', function () { document.getElementById('login').requestSubmit(); });</script>
</body></html>`))

// TestBrowserAuthorizationCodeFlow drives the whole flow in headless
// Chromium: the authorization request sends the browser to log in, the
// login returns it to the authorization endpoint, the consent form is
// posted same-origin, and the browser lands on the client's callback with a
// code that the client exchanges with its PKCE verifier.
func TestBrowserAuthorizationCodeFlow(t *testing.T) {
	bin := browsertest.Chromium(t)
	e := newAuthzEnv(t, func(c *provider.Config) { c.AllowInsecureHTTP = true }, func(c *provider.AuthorizeConfig) {
		c.ConsentTemplate = browserConsent
	})
	mux := http.NewServeMux()
	mux.Handle("/oauth2/authorize", e.az)
	mux.Handle("POST /oauth2/token", e.h)
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = browserLogin.Execute(w, r.URL.Query().Get("return_to"))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("username") != "johndoe" || r.PostFormValue("password") != "foobar42" {
			http.Error(w, "bad login", http.StatusUnauthorized)
			return
		}
		rt := r.PostFormValue("return_to")
		if !strings.HasPrefix(rt, "/") || strings.HasPrefix(rt, "//") || strings.HasPrefix(rt, "/\\") {
			rt = "/"
		}
		http.SetCookie(w, &http.Cookie{Name: userCookie, Value: "user-1", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, rt, http.StatusSeeOther)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cfg := oauth2.Config{
		ClientID:    "spa",
		Endpoint:    oauth2.Endpoint{AuthURL: srv.URL + "/oauth2/authorize", TokenURL: srv.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: srv.URL + "/callback", // http://127.0.0.1:<port>/callback: loopback, any port
		Scopes:      []string{"read", "write"},
	}
	verifier := oauth2.GenerateVerifier()
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		result := fmt.Sprintf("state=%s error=%s ", q.Get("state"), q.Get("error"))
		tok, err := cfg.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			result += "exchange failed: " + err.Error()
		} else {
			ti, err := e.validate(tok.AccessToken)
			result += fmt.Sprintf("exchanged user_id=%v scope=%v valid=%v", tok.Extra("user_id"), tok.Extra("scope"), err == nil && ti.Grant.ClientID == "spa")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, "<!doctype html><html><body><pre id=\"result\">%s</pre></body></html>", template.HTMLEscapeString(result))
	})

	// Chromium ends on the callback's page; any other page has no result.
	result := browsertest.Result(t, bin, cfg.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier)), browsertest.Options{})
	assert.Equal(t, "state=browser-state error= exchanged user_id=user-1 scope=read write valid=true", result)
}
