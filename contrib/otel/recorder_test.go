package oauthotel

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A handler that writes nothing answered 200; the first final status
// is the one kept (informational ones before it, a superfluous
// WriteHeader after it, which net/http ignores, are not).
func TestResponseRecorderStatus(t *testing.T) {
	assert.Equal(t, http.StatusOK, (&responseRecorder{ResponseWriter: httptest.NewRecorder()}).statusCode())

	rr := &responseRecorder{ResponseWriter: httptest.NewRecorder()}
	rr.WriteHeader(http.StatusContinue)
	rr.WriteHeader(http.StatusOK)
	rr.WriteHeader(http.StatusInternalServerError)
	assert.Equal(t, http.StatusOK, rr.statusCode())
}

// At most maxErrorBody (512) bytes of an error body are kept, over any
// number of writes, and a body of exactly that length is read whole.
func TestResponseRecorderKeepsAtMostMaxErrorBody(t *testing.T) {
	rr := &responseRecorder{ResponseWriter: httptest.NewRecorder()}
	rr.WriteHeader(http.StatusBadRequest)
	for range 3 {
		_, _ = rr.Write([]byte(strings.Repeat("x", 300)))
	}
	assert.Len(t, rr.body, 512)

	const code = `{"error":"invalid_grant","error_description":"`
	full := code + strings.Repeat("d", 512-len(code)-2) + `"}`
	rr = &responseRecorder{ResponseWriter: httptest.NewRecorder()}
	rr.WriteHeader(http.StatusBadRequest)
	_, _ = rr.Write([]byte(full[:100]))
	_, _ = rr.Write([]byte(full[100:]))
	assert.Equal(t, "invalid_grant", rr.errorCode(), "a %d-byte body", len(full))
}

// errorCode: a known code as it is, any other "other", none "none".
func TestResponseRecorderErrorCode(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":"invalid_client"}`: "invalid_client",
		`{"error":"made_up"}`:        "other",
		`{}`:                         "none",
		`{"error":""}`:               "none",
		`not json`:                   "none",
	} {
		rr := &responseRecorder{ResponseWriter: httptest.NewRecorder(), status: http.StatusBadRequest, body: []byte(body)}
		assert.Equal(t, want, rr.errorCode(), body)
	}
}

// No success body is kept, as maxErrorBody's doc says: it may hold
// tokens. A body written before an error status (none can be) is not
// either.
func TestResponseRecorderKeepsNoSuccessBody(t *testing.T) {
	for _, status := range []int{0, http.StatusOK, http.StatusFound} {
		rr := &responseRecorder{ResponseWriter: httptest.NewRecorder()}
		if status != 0 {
			rr.WriteHeader(status)
		}
		_, _ = rr.Write([]byte(`{"access_token":"oat_x","error":"x"}`))
		assert.Empty(t, rr.body, "status %d", status)
	}
}
