package provider

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonStrings are strings whose JSON escaping takes care.
var jsonStrings = []string{
	"", "plain", "with space", `quote"`, `back\slash`, "<script>&amp;</script>",
	"\x00\x01\x1f\x7f", "\b\f\n\r\t", "caf\u00e9 \u2028\u2029 \U0001F600",
	"bad \xff utf8 \xe2\x82", "\xed\xa0\x80 surrogate", "a.b-c_d~e",
}

func TestTokenResponseJSON(t *testing.T) {
	for _, s := range jsonStrings {
		for _, r := range []tokenResponse{
			{AccessToken: s, TokenType: "Bearer", ExpiresIn: 3600},
			{AccessToken: "a", TokenType: s, ExpiresIn: -1, RefreshToken: s, Scope: s, UserID: s},
			{AccessToken: "a", TokenType: "Bearer", Scope: "read write", UserID: s},
		} {
			want, err := json.Marshal(&r)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(r.appendJSON(nil)), "%q", s)
		}
	}
}

func FuzzTokenResponseJSON(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s, s, int64(3600))
	}
	f.Fuzz(func(t *testing.T, a, b string, n int64) {
		r := tokenResponse{AccessToken: a, TokenType: "Bearer", ExpiresIn: n, RefreshToken: b, Scope: a + b, UserID: b}
		want, err := json.Marshal(&r)
		require.NoError(t, err)
		require.Equal(t, string(want), string(r.appendJSON(nil)))
	})
}

func TestWriteTokenResponseMatchesWriteJSON(t *testing.T) {
	resp := &tokenResponse{AccessToken: "at", TokenType: "Bearer", ExpiresIn: 60, RefreshToken: "rt", Scope: "read"}
	want, got := httptest.NewRecorder(), httptest.NewRecorder()
	writeJSON(want, 200, resp)
	writeTokenResponse(got, resp)
	assert.Equal(t, want.Code, got.Code)
	assert.Equal(t, want.Header(), got.Header())
	assert.Equal(t, want.Body.String(), got.Body.String())
}

// BenchmarkWriteTokenResponse compares the hand-written encoder with
// encoding/json on a typical response.
func BenchmarkWriteTokenResponse(b *testing.B) {
	resp := &tokenResponse{AccessToken: "oat_" + strings.Repeat("x", 60), TokenType: "Bearer", ExpiresIn: 3600,
		RefreshToken: "ort_" + strings.Repeat("y", 60), Scope: "read write", UserID: "user-1"}
	w := httptest.NewRecorder()
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w.Body.Reset()
			clear(w.Header())
			writeJSON(w, 200, resp)
		}
	})
	b.Run("appendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w.Body.Reset()
			clear(w.Header())
			writeTokenResponse(w, resp)
		}
	})
}
