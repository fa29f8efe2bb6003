package bench_test

import "net/http/httptest"

// newRecorder returns a fresh response recorder; every library's token
// endpoint writes into one, so their cost is the same for all.
func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
