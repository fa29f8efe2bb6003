package provider_test

import (
	"html/template"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/oauth2provider/oauth2provider/provider"
)

// An ErrorTemplate that fails after writing part of the page is answered
// with the plain fallback only, never the part it wrote before it failed;
// and the template is given the page's own status, not always 400.
func TestAuthorizeErrorTemplateFailureAndStatus(t *testing.T) {
	t.Run("fails midway", func(t *testing.T) {
		broken := template.Must(template.New("e").Parse(`partial {{.Code}} {{.Missing}}`))
		e := newAuthzEnv(t, nil, func(c *provider.AuthorizeConfig) { c.ErrorTemplate = broken })
		w := e.get(spaParams("client_id", "nobody"), "user-1")
		assert.Equal(t, http.StatusBadRequest, w.Code)
		assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
		assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		assert.Equal(t, "authorization error: invalid_request\n", w.Body.String())
	})
	t.Run("status of a 405", func(t *testing.T) {
		page := template.Must(template.New("e").Parse(`{{.Code}} {{.Status}}`))
		e := newAuthzEnv(t, nil, func(c *provider.AuthorizeConfig) { c.ErrorTemplate = page })
		w := e.authorize(azReq{method: http.MethodPut, query: spaParams().Encode(), user: "user-1"})
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
		assert.Equal(t, "GET, POST", w.Header().Get("Allow"))
		assert.Equal(t, "invalid_request 405", w.Body.String())
	})
}
