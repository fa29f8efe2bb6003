package provider

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// appendJSON appends the JSON form of r to b, byte for byte what
// encoding/json makes of it (TestTokenResponseJSON and FuzzTokenResponseJSON
// check it), without reflection.
func (r *tokenResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"access_token":`...)
	b = appendJSONString(b, r.AccessToken)
	b = append(b, `,"token_type":`...)
	b = appendJSONString(b, r.TokenType)
	b = append(b, `,"expires_in":`...)
	b = strconv.AppendInt(b, r.ExpiresIn, 10)
	if r.RefreshToken != "" {
		b = append(b, `,"refresh_token":`...)
		b = appendJSONString(b, r.RefreshToken)
	}
	if r.Scope != "" {
		b = append(b, `,"scope":`...)
		b = appendJSONString(b, r.Scope)
	}
	if r.UserID != "" {
		b = append(b, `,"user_id":`...)
		b = appendJSONString(b, r.UserID)
	}
	return append(b, '}')
}

// jsonSafe tells the bytes encoding/json writes as they are, one by
// one: ASCII but for control characters, '"', '\\', '<', '>' and '&'.
var jsonSafe = func() (t [256]bool) {
	for c := range utf8.RuneSelf {
		t[c] = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string the way encoding/json
// writes it: HTML-safe (<, > and & escaped), control characters escaped,
// U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Runs of bytes written as they are (all of a token) in a tight
		// loop: a byte indexes the 256 entries of jsonSafe without a check.
		for i < len(s) && jsonSafe[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// bodyBufs recycles the buffers token responses are built in: a Write
// must not keep the slice it is given (io.Writer), so a buffer is free
// again once writeTokenResponse returns.
var bodyBufs = sync.Pool{New: func() any { return new([]byte) }}

// writeTokenResponse writes resp as a 200 JSON response with the no-store
// headers, as writeJSON does, with the header values set in one
// allocation under their canonical keys.
func writeTokenResponse(w http.ResponseWriter, resp *tokenResponse) {
	// The names, punctuation and expires_in take under 128 bytes; only
	// escaping makes the body outgrow this.
	n := 128 + len(resp.AccessToken) + len(resp.TokenType) + len(resp.RefreshToken) + len(resp.Scope) + len(resp.UserID)
	buf := bodyBufs.Get().(*[]byte)
	defer bodyBufs.Put(buf)
	body := resp.appendJSON(slices.Grow((*buf)[:0], n))
	body = append(body, '\n')
	*buf = body[:0] // keep what appending grew
	vals := []string{"application/json;charset=utf-8", "no-store", "no-cache", strconv.Itoa(len(body))}
	h := w.Header()
	h["Content-Type"] = vals[0:1:1]
	h["Cache-Control"] = vals[1:2:2]
	h["Pragma"] = vals[2:3:3]
	h["Content-Length"] = vals[3:4:4]
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
