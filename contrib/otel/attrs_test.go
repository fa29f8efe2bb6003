package oauthotel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	oauthotel "github.com/oauth2provider/oauth2provider/contrib/otel"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An endpoint's span records its method and route, and a failed
// request's error code as oauth2.error as well as its outcome.
func TestHandlerSpanAttributes(t *testing.T) {
	e := newEnv(t, 0)
	h := e.in.Handler("/oauth2/x", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/oauth2/x?a=b", nil))
	spans := e.spansNamed("POST /oauth2/x")
	require.Len(t, spans, 1)
	assert.Equal(t, http.MethodPost, attrOf(spans[0], oauthotel.AttrHTTPMethod))
	assert.Equal(t, "/oauth2/x", attrOf(spans[0], oauthotel.AttrHTTPRoute))
	assert.Equal(t, "400", attrOf(spans[0], oauthotel.AttrHTTPStatus))
	assert.Equal(t, provider.CodeInvalidGrant, attrOf(spans[0], oauthotel.AttrOutcome))
	assert.Equal(t, provider.CodeInvalidGrant, attrOf(spans[0], oauthotel.AttrError))
}

// Every error code the provider and its policies answer with is recorded
// as it is, not as "other".
func TestHandlerRecordsEveryKnownCode(t *testing.T) {
	e := newEnv(t, 0)
	for _, code := range []string{
		provider.CodeInvalidRequest, provider.CodeInvalidClient, provider.CodeInvalidGrant,
		provider.CodeUnauthorizedClient, provider.CodeUnsupportedGrantType, provider.CodeInvalidScope,
		provider.CodeInvalidToken, provider.CodeInsufficientScope, provider.CodeTemporarilyUnavailable,
		provider.CodeSlowDown, "unauthorized", "cross_origin_request", "server_error", "access_denied",
		"unsupported_response_type",
	} {
		h := e.in.Handler("/x", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":"` + code + `"}`))
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/x", nil))
		assert.EqualValues(t, 1, e.counterValue(t, "oauth2.requests.failed", oauthotel.AttrError.String(code)), code)
	}
}

// A WriteHeader after the response's status was sent (after another
// WriteHeader, or after a Write that sent 200) changes nothing on the
// wire (net/http ignores it), and nothing in what is recorded.
func TestHandlerIgnoresSuperfluousWriteHeader(t *testing.T) {
	for _, tt := range []struct {
		name  string
		serve func(http.ResponseWriter)
		want  int
	}{
		{"after WriteHeader", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_request"}`))
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusBadRequest},
		{"after Write", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`{}`))
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 0)
			h := e.in.Handler("/x", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { tt.serve(w) }))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/x", nil))
			require.Equal(t, tt.want, rec.Code)
			spans := e.spansNamed("POST /x")
			require.Len(t, spans, 1)
			assert.Equal(t, strconv.Itoa(tt.want), attrOf(spans[0], oauthotel.AttrHTTPStatus))
			assert.EqualValues(t, 1, e.histogramCount(t, "oauth2.request.duration", oauthotel.AttrHTTPStatus.Int(tt.want)))
		})
	}
}

// A policy's validation span records the policy's name, and a refusal
// with any error status (400 too, not only 401) its error code.
func TestPolicySpanAttributes(t *testing.T) {
	e := newEnv(t, 0)
	tok := e.passwordGrant(t)
	// A token in the header and in the query as well: 400 invalid_request.
	rec := e.get("/api/me?access_token=x", tok.AccessToken)
	require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
	spans := e.spansNamed("oauth2.validate bearer")
	require.Len(t, spans, 1)
	assert.Equal(t, "bearer", attrOf(spans[0], oauthotel.AttrPolicy))
	assert.Equal(t, oauthotel.OutcomeRefused, attrOf(spans[0], oauthotel.AttrOutcome))
	assert.Equal(t, "400", attrOf(spans[0], oauthotel.AttrHTTPStatus))
	assert.Equal(t, provider.CodeInvalidRequest, attrOf(spans[0], oauthotel.AttrError))
}

// An event without a grant type or client ID (a later event of the same
// request) leaves the span's grant type and client ID as an earlier
// event set them.
func TestEventWithoutIDsKeepsSpanAttributes(t *testing.T) {
	e := newEnv(t, 0)
	hook := e.in.Events(func(context.Context, provider.Event) {})
	h := e.in.Handler("/x", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hook(r.Context(), provider.Event{Type: provider.EventTokenIssued, GrantType: "password", ClientID: clientID})
		hook(r.Context(), provider.Event{Type: provider.EventThrottled})
		w.WriteHeader(http.StatusNoContent)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/x", nil))
	spans := e.spansNamed("POST /x")
	require.Len(t, spans, 1)
	assert.Equal(t, "password", attrOf(spans[0], oauthotel.AttrGrantType))
	assert.Equal(t, clientID, attrOf(spans[0], oauthotel.AttrClientID))
	require.Len(t, spans[0].Events(), 2)
	assert.Empty(t, spans[0].Events()[1].Attributes, "the second event has no IDs")
}

// A redirect (3xx) is a success, as 2xx is: no error code, no failure
// counted.
func TestHandlerRedirectIsASuccess(t *testing.T) {
	e := newEnv(t, 0)
	h := e.in.Handler("/login", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/consent", http.StatusSeeOther)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/login", nil))
	spans := e.spansNamed("POST /login")
	require.Len(t, spans, 1)
	assert.Equal(t, oauthotel.OutcomeSuccess, attrOf(spans[0], oauthotel.AttrOutcome))
	assert.Empty(t, attrOf(spans[0], oauthotel.AttrError))
	assert.Zero(t, e.counterValue(t, "oauth2.requests.failed"))
}
