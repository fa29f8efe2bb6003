package docs_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPoliciesPlainForm submits policies.md's plain HTML sign-in form, as
// a browser would, to the login handler of its routes: a mistyped
// password comes back to the form's failure_to with error=invalid_grant,
// the right one goes on to its return_to.
func TestPoliciesPlainForm(t *testing.T) {
	md, err := os.ReadFile("policies.md")
	require.NoError(t, err)
	var form string
	for _, b := range codeBlocks("policies.md", string(md)) {
		if b.lang == "html" && strings.Contains(b.text, `name="failure_to"`) {
			form = b.text
		}
	}
	require.NotEmpty(t, form, "policies.md shows no plain form with failure_to")
	require.Contains(t, form, `<form method="post" action="/login">`)
	hidden := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(form, -1) {
		hidden.Set(m[1], m[2])
	}
	require.NotEmpty(t, hidden.Get("failure_to"))
	require.NotEmpty(t, hidden.Get("return_to"))
	for _, name := range []string{"username", "password"} {
		require.Contains(t, form, `name="`+name+`"`)
	}

	store := memory.New(memory.Config{})
	var users authcheck.Static
	require.NoError(t, users.Add("johndoe", "foobar42", "user-1"))
	p, err := provider.New(provider.Config{
		Clients: store, Tokens: store, Users: &users,
		Scopes: []string{"read", "write"}, AllowInsecureHTTP: true,
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	require.NoError(t, policiesSnippet(p, mux, ok, ok, ok))

	submit := func(password string) *httptest.ResponseRecorder {
		body := url.Values{"username": {"johndoe"}, "password": {password}}
		for k, v := range hidden {
			body[k] = v
		}
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	w := submit("wrong")
	assert.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	assert.Equal(t, hidden.Get("failure_to")+"?error=invalid_grant", w.Header().Get("Location"))
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Empty(t, w.Result().Cookies())

	w = submit("foobar42")
	assert.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	assert.Equal(t, hidden.Get("return_to"), w.Header().Get("Location"))
	assert.NotEmpty(t, w.Result().Cookies())
}
