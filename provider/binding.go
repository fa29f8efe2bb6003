package provider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/oauth2provider/oauth2provider/internal/header"
	"github.com/oauth2provider/oauth2provider/storage"
)

// MinBindingKeyLen is the shortest Config.BindingKey [New] accepts.
const MinBindingKeyLen = 32

// bindingVersion prefixes every stored fingerprint, so that another
// fingerprint scheme can be told apart later.
const bindingVersion = "b1."

// setUpBinding validates and copies Config.BindingKey for [New].
func setUpBinding(cfg *Config) error {
	if cfg.BindingKey == nil {
		return nil
	}
	if len(cfg.BindingKey) < MinBindingKeyLen {
		return fmt.Errorf("BindingKey is shorter than %d bytes", MinBindingKeyLen)
	}
	cfg.BindingKey = slices.Clone(cfg.BindingKey)
	return nil
}

// Fingerprint returns the binding of a grant issued to r: HMAC-SHA256
// under Config.BindingKey of the client IP ([Provider.ClientIP], so a
// client-set X-Forwarded-For counts only through trusted proxies) and the
// User-Agent. It is empty when binding is off (no BindingKey). The value
// is safe to store and to log: without the key it gives back neither the
// address nor the User-Agent.
func (p *Provider) Fingerprint(r *http.Request) string {
	if p.cfg.BindingKey == nil {
		return ""
	}
	return p.fingerprint(r, p.ClientIP(r))
}

// fingerprint is Fingerprint for r from client address ip, which the
// caller has read already.
func (p *Provider) fingerprint(r *http.Request, ip netip.Addr) string {
	if p.cfg.BindingKey == nil {
		return ""
	}
	// Keying an HMAC costs two digests and their pads: reuse them, with
	// a buffer for the input, which the HMAC (an interface) would
	// otherwise make escape piece by piece.
	m, _ := p.macs.Get().(*fingerprintMAC)
	if m == nil {
		m = &fingerprintMAC{mac: hmac.New(sha256.New, p.cfg.BindingKey), buf: make([]byte, 0, fingerprintBuf)}
	} else {
		m.mac.Reset()
	}
	in := appendIPField(m.buf[:0], ip)
	in = appendField(in, header.First(r.Header, "User-Agent"))
	m.mac.Write(in)
	// The digest, then the fingerprint, in the same buffer (at least
	// fingerprintBuf long, enough for both).
	sum := m.mac.Sum(in[:0])
	out := append(sum[len(sum):], bindingVersion...)
	out = base64.RawURLEncoding.AppendEncode(out, sum)
	fp := string(out)
	if cap(in) <= maxFingerprintBuf {
		m.buf = in[:0]
	} else {
		m.buf = make([]byte, 0, fingerprintBuf) // an outsized User-Agent: let its buffer go
	}
	p.macs.Put(m)
	return fp
}

// fingerprintMAC is a keyed HMAC of Fingerprint with a buffer for its
// input.
type fingerprintMAC struct {
	mac hash.Hash
	buf []byte
}

// fingerprintBuf is the size a fingerprintMAC's buffer starts at, and
// maxFingerprintBuf the largest it keeps.
const (
	fingerprintBuf    = 256
	maxFingerprintBuf = 1 << 10
)

// appendField appends s prefixed with its length as 8 bytes big-endian,
// so that no two (IP, User-Agent) pairs hash the same input.
func appendField(in []byte, s string) []byte {
	in = binary.BigEndian.AppendUint64(in, uint64(len(s)))
	return append(in, s...)
}

// appendIPField appends ip as appendField would append ip.String(), but
// without making that string.
func appendIPField(in []byte, ip netip.Addr) []byte {
	if !ip.IsValid() {
		return appendField(in, ip.String()) // "invalid IP"
	}
	at := len(in)
	in = ip.AppendTo(binary.BigEndian.AppendUint64(in, 0))
	binary.BigEndian.PutUint64(in[at:], uint64(len(in)-at-8)) // #nosec G115 -- the length of what AppendTo appended: never negative
	return in
}

// checkBinding refuses a request to use grant g from another user agent
// than the one g is bound to, and revokes g when it does ("a wrong try
// destroys the session", as the Flask seed put it). A grant issued while
// binding was off (empty Binding) is not checked, nor is any grant when
// binding is off now. A mismatch is [ErrInvalidToken], joined with the
// store's error when the revocation failed (the request is refused all the
// same and the next one tries again).
func (p *Provider) checkBinding(ctx context.Context, r *http.Request, g *storage.Grant) error {
	if !p.bound(g) {
		return nil // the common case: no client address to read
	}
	ip := p.ClientIP(r)
	if p.bindingMatches(r, ip, g) {
		return nil
	}
	return p.bindingMismatch(ctx, ip, g)
}

// bound reports whether a use of grant g is checked against its
// binding: g is bound, and binding is on.
func (p *Provider) bound(g *storage.Grant) bool {
	return g.Binding != "" && p.cfg.BindingKey != nil
}

// bindingMatches reports whether r, from client address ip, may use
// grant g: binding is off, g is not bound, or r's fingerprint is the one
// g is bound to.
func (p *Provider) bindingMatches(r *http.Request, ip netip.Addr, g *storage.Grant) bool {
	if !p.bound(g) {
		return true
	}
	return hmac.Equal([]byte(g.Binding), []byte(p.fingerprint(r, ip)))
}

// bindingMismatch revokes grant g, which a request from client address
// ip presented from another user agent than g is bound to, reports
// EventBindingMismatch and returns [ErrInvalidToken] (joined with the
// store's error when the revocation failed).
func (p *Provider) bindingMismatch(ctx context.Context, ip netip.Addr, g *storage.Grant) error {
	// Revoked first, so that the event says what happened.
	err := p.revokeDetached(ctx, g.ID)
	reason := "token presented from another client IP or User-Agent; grant revoked"
	if err != nil {
		reason = "token presented from another client IP or User-Agent; revoking the grant failed"
	}
	p.emit(ctx, Event{Type: EventBindingMismatch, ClientID: g.ClientID, UserID: g.UserID, GrantID: g.ID,
		IP: ip, Reason: reason})
	if err != nil {
		return errors.Join(ErrInvalidToken, fmt.Errorf("provider: revoke grant on binding mismatch: %w", err))
	}
	return ErrInvalidToken
}

// detachedTimeout bounds a call that must happen even when the request's
// context ends (revokeDetached, a throttle refund). A variable for tests.
var detachedTimeout = 5 * time.Second

// detached returns a context with ctx's values that its end does not
// cancel, ending after detachedTimeout instead.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
}

// revokeDetached revokes grant id whether or not the client of ctx's
// request is still there, which must not undo a revocation for security,
// but within detachedTimeout: a store that stops answering must not hold
// the request for ever.
func (p *Provider) revokeDetached(ctx context.Context, id string) error {
	ctx, cancel := detached(ctx)
	defer cancel()
	return p.cfg.Tokens.RevokeGrant(ctx, id)
}
