package main

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loginFields returns the hidden fields of the sign-in page's form.
func loginFields(t *testing.T, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range regexp.MustCompile(`<input name="([^"]+)" type="hidden" value="([^"]*)">`).FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// The sign-in page is a plain form: a mistyped password brings the
// person back to it (failure_to) with a message and the same return_to,
// not to a JSON error; the right one goes on to return_to.
func TestQuickstartLoginPageShowsTheError(t *testing.T) {
	srv := newTestServer(t, options{})
	returnTo := "/oauth2/authorize?client_id=demo-spa&state=a%26b"

	resp, page := call(t, srv, http.MethodGet, "/login?"+url.Values{"return_to": {returnTo}}.Encode(), nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotContains(t, page, `role="alert"`)
	fields := loginFields(t, page)
	assert.Equal(t, returnTo, fields.Get("return_to"))
	assert.Equal(t, "/login?"+url.Values{"return_to": {returnTo}}.Encode(), fields.Get("failure_to"))

	form := url.Values{"username": {"johndoe"}, "password": {"wrong"}}
	for k, v := range fields {
		form[k] = v
	}
	resp, _ = call(t, srv, http.MethodPost, "/login", form, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Empty(t, resp.Cookies())
	back := resp.Header.Get("Location")
	assert.Equal(t, "/login?error=invalid_grant&"+url.Values{"return_to": {returnTo}}.Encode(), back)

	resp, page = call(t, srv, http.MethodGet, back, nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, page, `<p role="alert">Wrong username or password.</p>`)
	assert.Equal(t, fields, loginFields(t, page), "the same form again, return_to kept")

	form.Set("password", "foobar42")
	resp, _ = call(t, srv, http.MethodPost, "/login", form, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, returnTo, resp.Header.Get("Location"))
	assert.Len(t, resp.Cookies(), 1)
}

// The page shows fixed text for each code: a link with its own error or
// retry_after puts nothing of it on the page.
func TestQuickstartLoginPageMessages(t *testing.T) {
	srv := newTestServer(t, options{})
	for query, want := range map[string]string{
		"error=invalid_grant":                       "Wrong username or password.",
		"error=invalid_request":                     "Enter your username and password.",
		"error=slow_down&retry_after=60":            "Too many failed attempts: try again in 60 seconds.",
		"error=slow_down&retry_after=60%3Cb%3E":     "Too many failed attempts: try again later.",
		"error=slow_down":                           "Too many failed attempts: try again later.",
		"error=temporarily_unavailable":             "Signing in is unavailable right now: try again later.",
		"error=%3Cscript%3Ealert(1)%3C%2Fscript%3E": "Signing in failed: try again.",
	} {
		resp, page := call(t, srv, http.MethodGet, "/login?"+query, nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, query)
		assert.Contains(t, page, `<p role="alert">`+want+`</p>`, query)
		assert.NotContains(t, page, "<script>", query)
		assert.NotContains(t, page, "<b>", query)
		assert.Equal(t, 1, strings.Count(page, `role="alert"`), query)
	}
}
