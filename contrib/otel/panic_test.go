package oauthotel_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
)

// A handler that panics fails the request (net/http recovers the panic
// and drops the connection): its span is an error and the request counts
// as a failed 500, not as a span with no status and no metrics at all.
// The panic goes on to the server.
func TestHandlerPanicIsAnError(t *testing.T) {
	e := newEnv(t, 0)
	h := e.in.Handler("/login", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("handler bug") }))
	assert.PanicsWithValue(t, "handler bug", func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/login", nil))
	})
	spans := e.spansNamed("POST /login")
	require.Len(t, spans, 1)
	assert.Equal(t, codes.Error, spans[0].Status().Code)
	assert.Equal(t, "500", attrOf(spans[0], oauthotel.AttrHTTPStatus))
	assert.EqualValues(t, 1, e.histogramCount(t, "oauth2.request.duration",
		oauthotel.AttrEndpoint.String("/login"), oauthotel.AttrHTTPStatus.Int(http.StatusInternalServerError)))
	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.requests.failed",
		oauthotel.AttrEndpoint.String("/login"), oauthotel.AttrError.String("server_error")))
}

// A policy that panics fails the validation: its span is an error. A
// panic of the app's handler after the policy let the request through
// is not the validation's: that span stays a pass.
func TestPolicyPanicIsAnError(t *testing.T) {
	e := newEnv(t, 0)
	panicking := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("policy bug") })
	}
	h := e.in.Policy("broken", panicking)(http.NotFoundHandler())
	assert.Panics(t, func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil)) })
	spans := e.spansNamed("oauth2.validate broken")
	require.Len(t, spans, 1)
	assert.Equal(t, codes.Error, spans[0].Status().Code)

	passing := func(next http.Handler) http.Handler { return next }
	h = e.in.Policy("open", passing)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("app bug") }))
	assert.Panics(t, func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil)) })
	spans = e.spansNamed("oauth2.validate open")
	require.Len(t, spans, 1)
	assert.Equal(t, oauthotel.OutcomePass, attrOf(spans[0], oauthotel.AttrOutcome))
	assert.NotEqual(t, codes.Error, spans[0].Status().Code)
}

// An informational response (103 Early Hints) before the real one is
// not the request's status: the span and the failure counter record the
// final 400 and its error code.
func TestHandlerRecordsFinalStatusAfterInformational(t *testing.T) {
	e := newEnv(t, 0)
	h := e.in.Handler("/login", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Link", "</js/oauth_client.js>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request"}`))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/login", nil))
	spans := e.spansNamed("POST /login")
	require.Len(t, spans, 1)
	assert.Equal(t, "400", attrOf(spans[0], oauthotel.AttrHTTPStatus))
	assert.Equal(t, "invalid_request", attrOf(spans[0], oauthotel.AttrOutcome))
	assert.EqualValues(t, 1, e.counterValue(t, "oauth2.requests.failed",
		oauthotel.AttrEndpoint.String("/login"), oauthotel.AttrError.String("invalid_request")))
}

// A policy that answers with a server error (500 and up) fails its
// validation span; a 4xx refusal does not.
func TestPolicyServerErrorIsAnError(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   codes.Code
	}{
		{http.StatusUnauthorized, codes.Unset},
		{http.StatusInternalServerError, codes.Error},
		{http.StatusServiceUnavailable, codes.Error},
	} {
		e := newEnv(t, 0)
		mw := e.in.Policy("broken", func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(`{"error":"server_error"}`))
			})
		})
		mw(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/me", nil))
		spans := e.spansNamed("oauth2.validate broken")
		require.Len(t, spans, 1)
		assert.Equal(t, tt.want, spans[0].Status().Code, "status %d", tt.status)
	}
}
