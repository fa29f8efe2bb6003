package bench_test

import (
	"bytes"
	"net/http"
)

// recorder is the ResponseWriter every library's token endpoint writes
// into: status, headers and body, reused across the requests of a
// benchmark loop (reset) so that the harness allocates little, and the
// same for every library.
type recorder struct {
	h     http.Header
	Code  int
	Body  bytes.Buffer
	wrote bool
}

// reset empties w for the next request, keeping its buffers.
func (w *recorder) reset() {
	clear(w.h)
	w.Code, w.wrote = 0, false
	w.Body.Reset()
}

func (w *recorder) Header() http.Header {
	if w.h == nil {
		w.h = make(http.Header)
	}
	return w.h
}

func (w *recorder) WriteHeader(code int) {
	if !w.wrote {
		w.Code, w.wrote = code, true
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.Body.Write(b)
}
