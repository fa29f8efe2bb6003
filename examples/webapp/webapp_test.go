package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/authcheck"
	"github.com/oauth2provider/oauth2provider/storage"
)

const secret = "test-secret-of-the-notes-cli-client-0123456789"

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	var users authcheck.Static
	require.NoError(t, users.Add("johndoe", "foobar42", "1"))
	h, err := newRouter(t.Context(), options{
		clientSecretHash: storage.HashGeneratedSecret(secret),
		insecure:         true,
		users:            &users,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	resp   *http.Response
}

func send(t *testing.T, method, target, contentType, body string, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := reply{status: resp.StatusCode, header: resp.Header, resp: resp}
	if len(b) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(b, &r.body), "%s", b)
	}
	return r
}

const form = "application/x-www-form-urlencoded"

func login(t *testing.T, srv *httptest.Server) map[string]string {
	t.Helper()
	r := send(t, http.MethodPost, srv.URL+"/login", form, "username=johndoe&password=foobar42", nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	cs := r.resp.Cookies()
	require.Len(t, cs, 1)
	return map[string]string{"Cookie": cs[0].Name + "=" + cs[0].Value}
}

func token(t *testing.T, srv *httptest.Server, scope string) map[string]string {
	t.Helper()
	body := url.Values{"grant_type": {"password"}, "username": {"johndoe"}, "password": {"foobar42"}, "scope": {scope}}
	r := send(t, http.MethodPost, srv.URL+"/oauth2/token", form, body.Encode(),
		map[string]string{"Authorization": "Basic " + basic(apiClientID, secret)})
	require.Equal(t, http.StatusOK, r.status, r.body)
	return map[string]string{"Authorization": "Bearer " + r.body["access_token"].(string)}
}

func basic(id, pw string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(pw))
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// TestCookieAndBearerShareRoutes: a note written with the session cookie is
// read with a bearer token, and the other way round, on the same routes.
func TestCookieAndBearerShareRoutes(t *testing.T) {
	srv := newServer(t)
	notes := srv.URL + "/api/notes"
	cookie := login(t, srv)
	rw := token(t, srv, "notes:read notes:write")

	r := send(t, http.MethodPost, notes, "application/json", `{"text":"from the browser"}`, cookie)
	require.Equal(t, http.StatusCreated, r.status, r.body)
	r = send(t, http.MethodPost, notes, "application/json", `{"text":"from a script"}`, rw)
	require.Equal(t, http.StatusCreated, r.status, r.body)

	r = send(t, http.MethodGet, notes, "", "", rw)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "bearer", r.body["auth"])
	assert.Equal(t, []any{
		map[string]any{"text": "from the browser", "by": "cookie"},
		map[string]any{"text": "from a script", "by": "bearer"},
	}, r.body["notes"])

	r = send(t, http.MethodGet, notes, "", "", cookie)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "cookie", r.body["auth"])
	assert.Len(t, r.body["notes"], 2)
}

func TestPolicyRules(t *testing.T) {
	srv := newServer(t)
	notes := srv.URL + "/api/notes"
	cookie := login(t, srv)
	readOnly := token(t, srv, "notes:read")

	for _, tc := range []struct {
		name      string
		method    string
		header    map[string]string
		status    int
		challenge string
	}{
		{"no credentials is 401 with a Bearer challenge (RFC 6750 §3.1)", http.MethodGet, nil, http.StatusUnauthorized, "Bearer"},
		{"read-only token cannot write: 403 insufficient_scope (RFC 6750 §3.1)", http.MethodPost, readOnly, http.StatusForbidden, `error="insufficient_scope"`},
		{"read-only token can read", http.MethodGet, readOnly, http.StatusOK, ""},
		{"cross-site POST with the cookie is refused (CSRF)", http.MethodPost,
			map[string]string{"Cookie": cookie["Cookie"], "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, ""},
		{"same-origin POST with the cookie passes", http.MethodPost,
			map[string]string{"Cookie": cookie["Cookie"], "Sec-Fetch-Site": "same-origin"}, http.StatusCreated, ""},
		{"a bad token is refused even next to a valid cookie", http.MethodGet,
			map[string]string{"Cookie": cookie["Cookie"], "Authorization": "Bearer not-a-token"}, http.StatusUnauthorized, `error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, tc.method, notes, "application/json", `{"text":"x"}`, tc.header)
			assert.Equal(t, tc.status, r.status, r.body)
			if tc.challenge != "" {
				assert.Contains(t, r.header.Get("WWW-Authenticate"), tc.challenge)
			}
		})
	}
	// Only the same-origin cookie POST wrote: the refused ones did not
	// reach the handler.
	r := send(t, http.MethodGet, notes, "", "", readOnly)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, []any{map[string]any{"text": "x", "by": "cookie"}}, r.body["notes"])
}

// TestUsersSeeOnlyTheirNotes: notes are kept per user ID; another user's
// token or session reads none of them.
func TestUsersSeeOnlyTheirNotes(t *testing.T) {
	var users authcheck.Static
	require.NoError(t, users.Add("johndoe", "foobar42", "1"))
	require.NoError(t, users.Add("janedoe", "barfoo42", "2"))
	h, err := newRouter(t.Context(), options{clientSecretHash: storage.HashGeneratedSecret(secret), insecure: true, users: &users})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	notes := srv.URL + "/api/notes"

	r := send(t, http.MethodPost, notes, "application/json", `{"text":"john's"}`, token(t, srv, "notes:write"))
	require.Equal(t, http.StatusCreated, r.status, r.body)

	body := url.Values{"grant_type": {"password"}, "username": {"janedoe"}, "password": {"barfoo42"}, "scope": {"notes:read"}}
	r = send(t, http.MethodPost, srv.URL+"/oauth2/token", form, body.Encode(),
		map[string]string{"Authorization": "Basic " + basic(apiClientID, secret)})
	require.Equal(t, http.StatusOK, r.status, r.body)
	r = send(t, http.MethodGet, notes, "", "", map[string]string{"Authorization": "Bearer " + r.body["access_token"].(string)})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "2", r.body["user_id"])
	assert.Equal(t, []any{}, r.body["notes"])
}

// TestLogoutEndsCookie: after POST /logout the old cookie value is refused.
func TestLogoutEndsCookie(t *testing.T) {
	srv := newServer(t)
	cookie := login(t, srv)
	r := send(t, http.MethodPost, srv.URL+"/logout", form, "", cookie)
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	r = send(t, http.MethodGet, srv.URL+"/api/notes", "", "", cookie)
	assert.Equal(t, http.StatusUnauthorized, r.status)
}

// TestAddRefusesBadBodies: a body over the limit is 413, not a decoding
// error of the truncated JSON, and a malformed one is 400 with a fixed
// description that does not echo the decoder's (Go type names).
func TestAddRefusesBadBodies(t *testing.T) {
	srv := newServer(t)
	notes := srv.URL + "/api/notes"
	rw := token(t, srv, "notes:read notes:write")
	for _, tc := range []struct {
		name, body string
		status     int
		want       map[string]any
	}{
		{"over 64 KiB", `{"text":"` + strings.Repeat("a", 1<<16) + `"}`, http.StatusRequestEntityTooLarge,
			map[string]any{"error": "invalid_request", "error_description": "the body is over 64 KiB"}},
		{"not a string", `{"text":1}`, http.StatusBadRequest,
			map[string]any{"error": "invalid_request", "error_description": `the body must be JSON {"text": "..."}`}},
		{"truncated", `{"text":"a`, http.StatusBadRequest,
			map[string]any{"error": "invalid_request", "error_description": `the body must be JSON {"text": "..."}`}},
		{"blank", `{"text":" "}`, http.StatusBadRequest,
			map[string]any{"error": "invalid_request", "error_description": "text is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, http.MethodPost, notes, "application/json", tc.body, rw)
			assert.Equal(t, tc.status, r.status)
			assert.Equal(t, tc.want, r.body)
		})
	}
	r := send(t, http.MethodGet, notes, "", "", rw)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Empty(t, r.body["notes"])
}

// TestNotesPerUserAreCapped: the notebook lives in memory, so a user cannot
// add notes without end (each up to 64 KiB) and exhaust it.
func TestNotesPerUserAreCapped(t *testing.T) {
	srv := newServer(t)
	notes := srv.URL + "/api/notes"
	rw := token(t, srv, "notes:read notes:write")
	for i := range maxNotes {
		r := send(t, http.MethodPost, notes, "application/json", `{"text":"x"}`, rw)
		require.Equal(t, http.StatusCreated, r.status, "note %d: %v", i, r.body)
	}
	r := send(t, http.MethodPost, notes, "application/json", `{"text":"one too many"}`, rw)
	assert.Equal(t, http.StatusConflict, r.status)
	assert.Equal(t, map[string]any{"error": "invalid_request", "error_description": "a user keeps at most 100 notes"}, r.body)
	r = send(t, http.MethodGet, notes, "", "", rw)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Len(t, r.body["notes"], maxNotes)
}
