package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tokenRecorder records every access and refresh token the token endpoint
// hands out.
type tokenRecorder struct {
	next http.Handler
	mu   sync.Mutex
	all  []string
}

func (rec *tokenRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/oauth2/token" {
		rec.next.ServeHTTP(w, r)
		return
	}
	cw := httptest.NewRecorder()
	rec.next.ServeHTTP(cw, r)
	var body struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if json.Unmarshal(cw.Body.Bytes(), &body) == nil {
		rec.mu.Lock()
		for _, tok := range []string{body.Access, body.Refresh} {
			if tok != "" {
				rec.all = append(rec.all, tok)
			}
		}
		rec.mu.Unlock()
	}
	for k, v := range cw.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(cw.Code)
	_, _ = w.Write(cw.Body.Bytes())
}

// The program prints what happens, never a token: neither the first
// access and refresh tokens nor any rotated pair appears in its output.
func TestRunNeverPrintsTokens(t *testing.T) {
	inner, _ := newServer(t, 5*time.Second)
	rec := &tokenRecorder{next: inner.Config.Handler}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), testConfig(srv), &out))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.all, 8, "a login and three refreshes, each an access and a refresh token")
	for _, tok := range rec.all {
		assert.NotContains(t, out.String(), tok)
	}
}
