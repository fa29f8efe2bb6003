package provider

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	_ "embed"
)

// defaultConsentTTL is how long a consent form stays valid when
// AuthorizeConfig.ConsentTTL is zero.
const defaultConsentTTL = 10 * time.Minute

//go:embed consent.html
var defaultConsentHTML string

// defaultConsentTemplate is the embedded consent page.
var defaultConsentTemplate = template.Must(template.New("consent").Parse(defaultConsentHTML))

// ConsentPage is what the consent template is executed with.
type ConsentPage struct {
	// ClientID identifies the client asking for access.
	ClientID string
	// UserID is the signed-in user who decides.
	UserID string
	// Scopes are the scopes the client asks for; empty means none.
	Scopes []string
	// RedirectURI is where the browser goes after the decision.
	RedirectURI string
	// Action is the URL the form must POST to: the authorization endpoint.
	Action string
	// Fields must all be posted back as hidden inputs: the authorization
	// request and the form token that protects the decision against
	// cross-site request forgery.
	Fields []ConsentField
}

// ConsentField is one hidden input of the consent form.
type ConsentField struct {
	Name, Value string // the input's name and value attributes, unescaped
}

// consentMAC returns the HMAC of a consent form for userID and the request
// ar (its params, scopes and redirect URI), valid until exp (Unix seconds).
func (h *authorizeHandler) consentMAC(exp uint64, userID string, ar *authorizeRequest) []byte {
	m := hmac.New(sha256.New, h.cfg.ConsentKey)
	var b [8]byte
	num := func(n uint64) {
		binary.BigEndian.PutUint64(b[:], n)
		m.Write(b[:])
	}
	str := func(s string) { // length-prefixed: fields cannot run into each other
		num(uint64(len(s)))
		m.Write([]byte(s))
	}
	m.Write([]byte("oauth2provider consent v2\x00"))
	num(exp)
	str(userID)
	// What the page showed, as resolved from the request: the scopes
	// granted (a request without scope gets the client's defaults) and
	// the redirect URI (one without redirect_uri, the registered one), so
	// that a client changed since cannot be approved by this form.
	str(ar.redirectURI)
	num(uint64(len(ar.scopes)))
	for _, s := range ar.scopes {
		str(s)
	}
	m.Write([]byte(ar.params.Encode())) // sorted by key: canonical
	return m.Sum(nil)
}

// consentToken makes the form token of a consent page: its expiry and an
// HMAC over the expiry, the user and the authorization request, so that
// only the page shown to this user for this request can approve it.
func (h *authorizeHandler) consentToken(userID string, ar *authorizeRequest) string {
	// The expiry is in whole seconds, rounded up: rounded down, it cut
	// up to a second off ConsentTTL, all of a TTL under a second.
	end := h.p.now().Add(h.cfg.ConsentTTL)
	unix := end.Unix()
	if end.Nanosecond() > 0 {
		unix++
	}
	exp := uint64(max(unix, 0)) // #nosec G115 -- clamped to >= 0
	b := make([]byte, 8, 8+sha256.Size)
	binary.BigEndian.PutUint64(b, exp)
	b = append(b, h.consentMAC(exp, userID, ar)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// checkConsentToken reports whether tok is a live form token of a consent
// page shown to userID for the request ar; the MAC is compared in
// constant time.
func (h *authorizeHandler) checkConsentToken(tok, userID string, ar *authorizeRequest) bool {
	// Decoding skips CR and LF even when strict: a token with one
	// inserted is another string, refused by its length.
	if len(tok) != base64.RawURLEncoding.EncodedLen(8+sha256.Size) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(b) != 8+sha256.Size {
		return false
	}
	exp := binary.BigEndian.Uint64(b[:8])
	if exp > 1<<62 || h.p.now().Unix() >= int64(exp) {
		return false
	}
	return hmac.Equal(b[8:], h.consentMAC(exp, userID, ar))
}

// showConsent renders the consent page for the request ar.
func (h *authorizeHandler) showConsent(w http.ResponseWriter, r *http.Request, ar *authorizeRequest, userID string) {
	page := ConsentPage{
		ClientID:    ar.client.ID,
		UserID:      userID,
		Scopes:      ar.scopes,
		RedirectURI: ar.redirectURI,
		Action:      localPath(r),
	}
	for _, name := range authorizeParams {
		if v := ar.params.Get(name); v != "" {
			page.Fields = append(page.Fields, ConsentField{Name: name, Value: v})
		}
	}
	tok := h.consentToken(userID, ar)
	page.Fields = append(page.Fields, ConsentField{Name: paramConsentToken, Value: tok})
	var buf bytes.Buffer
	if err := h.consent.Execute(&buf, page); err != nil {
		// The redirect URI is trusted: the client hears server_error (RFC
		// 6749 §4.1.2.1), and the operator the template's error, which
		// may quote a value of the page ("range can't iterate over
		// <value>"): never the consent token, the form's proof.
		msg := strings.ReplaceAll(err.Error(), tok, "(the consent token)")
		orDefault(h.p.cfg.Logger).LogAttrs(r.Context(), slog.LevelError, "oauth2: the consent template failed",
			slog.String("path", r.URL.Path), slog.String("err", msg))
		h.redirectError(w, r, ar, &Error{Code: codeServerError, Description: "the consent page could not be shown"})
		return
	}
	writeHTML(w, http.StatusOK, buf.Bytes())
}

// writeHTML writes a page of the authorization endpoint, which no other
// site may frame (clickjacking) and whose URL, holding the authorization
// request, is not sent on as a Referer.
func writeHTML(w http.ResponseWriter, status int, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	setNoStore(hd)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "frame-ancestors 'none'")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
