package jsclient_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/oauth2provider/oauth2provider/contrib/jsclient"
)

// Mount the script at a path of the app's choosing and load it from a page
// with <script src="/js/oauth_client.js" data-client-id="demo-spa"></script>.
func ExampleHandler() {
	mux := http.NewServeMux()
	mux.Handle("GET /js/oauth_client.js", jsclient.Handler())

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/js/oauth_client.js", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))

	again := httptest.NewRequest(http.MethodGet, "/js/oauth_client.js", nil)
	again.Header.Set("If-None-Match", rec.Header().Get("ETag"))
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, again)
	fmt.Println(rec.Code)
	// Output:
	// 200 text/javascript; charset=utf-8 no-cache
	// 304
}
