package provider

import (
	"bytes"
	"html/template"
	"net/http"
)

// ErrorPage is what the error template of the authorization endpoint is
// executed with.
type ErrorPage struct {
	// Code is the OAuth 2.0 error code, e.g. invalid_request.
	Code string
	// Description says what is wrong, for the user; it holds no secret.
	Description string
	// Status is the HTTP status of the page.
	Status int
}

// defaultErrorTemplate is the embedded error page.
var defaultErrorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorization error</title>
<style>body { font-family: system-ui, sans-serif; max-width: 28rem; margin: 4rem auto; padding: 0 1rem; color: #222; }</style>
</head>
<body>
<h1>This authorization request cannot be completed</h1>
<p id="description">{{.Description}}</p>
<p>Error: <code id="code">{{.Code}}</code></p>
</body>
</html>
`))

// errorPage answers e with the error page and e's status (400 unless
// stated): the answer while the client and redirect URI are not trusted,
// which must never redirect (RFC 6749 §4.1.2.1).
func (h *authorizeHandler) errorPage(w http.ResponseWriter, e *Error) {
	if e.status() == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	var buf bytes.Buffer
	if err := h.errPage.Execute(&buf, ErrorPage{Code: e.Code, Description: e.Description, Status: e.status()}); err != nil {
		buf.Reset()
		buf.WriteString("authorization error: " + template.HTMLEscapeString(e.Code) + "\n")
	}
	writeHTML(w, e.status(), buf.Bytes())
}
