package oauthotel_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Only a 429 counts in oauth2.requests.throttled, as the package doc
// says; a failure of another status, a server error above 429 among
// them, counts in oauth2.requests.failed only.
func TestOnlyTooManyRequestsIsThrottled(t *testing.T) {
	e := newEnv(t, 0)
	for _, tc := range []struct {
		status int
		code   string
	}{
		{http.StatusBadRequest, provider.CodeInvalidRequest},
		{http.StatusUnauthorized, provider.CodeInvalidClient},
		{http.StatusInternalServerError, "server_error"},
		{http.StatusServiceUnavailable, provider.CodeTemporarilyUnavailable},
	} {
		h := e.in.Handler("/oauth2/x", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(`{"error":"` + tc.code + `"}`))
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/oauth2/x", nil))
		assert.EqualValues(t, 1, e.counterValue(t, "oauth2.requests.failed", oauthotel.AttrError.String(tc.code)), tc.status)
	}
	assert.Zero(t, e.counterValue(t, "oauth2.requests.throttled"))
}

// The handler after Handler gets a ResponseWriter that
// http.ResponseController sees through, as Handler's doc says: a
// streaming handler can flush.
func TestHandlerWriterSupportsResponseController(t *testing.T) {
	e := newEnv(t, 0)
	var flushErr error
	h := e.in.Handler("/stream", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("part"))
		flushErr = http.NewResponseController(w).Flush()
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/stream", nil))
	require.NoError(t, flushErr)
	assert.True(t, rec.Flushed)
}

// Handler fits provider.RoutePaths.Wrap, as its doc says: each endpoint
// Routes returns is in a span named after its method and the path it
// is mounted at.
func TestHandlerAsRoutesWrap(t *testing.T) {
	e := newEnv(t, 0)
	mux := http.NewServeMux()
	for _, rt := range e.p.Routes(provider.RoutePaths{Wrap: e.in.Handler}) {
		mux.Handle(rt.Path, rt.Handler)
	}
	e.mux = mux
	e.passwordGrant(t)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, provider.WellKnownMetadataPath, nil))
	require.Equal(t, http.StatusOK, rec.Code)

	spans := e.spansNamed("POST " + provider.DefaultTokenPath)
	require.Len(t, spans, 1)
	assert.Equal(t, provider.DefaultTokenPath, attrOf(spans[0], oauthotel.AttrHTTPRoute))
	assert.Len(t, e.spansNamed("GET "+provider.WellKnownMetadataPath), 1)
	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.tokens.issued", oauthotel.AttrGrantType.String("password")))
}
