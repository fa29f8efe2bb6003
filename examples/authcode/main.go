// Command authcode is a client of the authorization code grant with PKCE
// (RFC 6749 §4.1, RFC 7636), written with golang.org/x/oauth2. It listens
// on a loopback redirect URI, prints the authorization URL for you to open
// in a browser, waits for the code, checks state and iss (RFC 9207),
// exchanges the code with its PKCE verifier and prints what it got (never
// the tokens themselves).
//
// Against a provider that serves /oauth2/authorize, /oauth2/token and
// /api/me and has registered the public client demo-spa with the redirect
// URI http://127.0.0.1:8081/callback:
//
//	go run ./examples/authcode -issuer http://127.0.0.1:8080
//
// Plain http is accepted only for an issuer on this machine; anywhere
// else the issuer must be https, since the token endpoint answers with
// the tokens.
package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/oauth2provider/oauth2provider/internal/loopback"
)

// config is what the program needs to know.
type config struct {
	issuer   string // the provider's base URL
	clientID string
	listen   string // host:port of the loopback callback; port 0 picks one
	scopes   []string
	timeout  time.Duration
}

func main() {
	var c config
	var scope string
	flag.StringVar(&c.issuer, "issuer", "http://127.0.0.1:8080", "provider base URL")
	flag.StringVar(&c.clientID, "client", "demo-spa", "public client ID")
	flag.StringVar(&c.listen, "listen", "127.0.0.1:8081", "loopback address of the redirect URI http://<listen>/callback")
	flag.StringVar(&scope, "scope", "read", "space-separated scopes")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Minute, "how long to wait for the browser")
	flag.Parse()
	c.scopes = strings.Fields(scope)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	browse := func(u string) error {
		fmt.Printf("Open this URL in your browser and log in (johndoe / foobar42 on the quickstart):\n\n  %s\n\n", u)
		return nil
	}
	if _, err := run(ctx, c, os.Stdout, browse); err != nil {
		fmt.Fprintln(os.Stderr, "authcode:", err)
		os.Exit(1)
	}
}

// callback is what the redirect URI received.
type callback struct {
	code, state, err string
	iss              string // the iss parameter (RFC 9207), when hasIss
	hasIss           bool
}

// run does the whole flow: browse is handed the authorization URL and must
// get a browser to it. It returns the token.
func run(ctx context.Context, c config, out io.Writer, browse func(authURL string) error) (*oauth2.Token, error) {
	if err := checkIssuer(c.issuer); err != nil {
		return nil, err
	}
	if !loopback.Addr(c.listen) {
		return nil, fmt.Errorf("-listen %s: the callback listens on a loopback address only (127.0.0.1, ::1, localhost): elsewhere the code would come over plain HTTP from the network", c.listen)
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return nil, fmt.Errorf("listen for the callback: %w", err)
	}
	defer ln.Close()
	base := strings.TrimSuffix(c.issuer, "/")
	cfg := oauth2.Config{
		ClientID: c.clientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:   base + "/oauth2/authorize",
			TokenURL:  base + "/oauth2/token",
			AuthStyle: oauth2.AuthStyleInParams, // a public client: client_id in the body, no secret
		},
		// A loopback redirect URI may use any port (RFC 8252 §7.3).
		RedirectURL: "http://" + ln.Addr().String() + "/callback",
		Scopes:      c.scopes,
	}

	// The answer is the callback that carries our state. Any web page can
	// make the browser request the loopback callback, so a request with
	// another state is refused and the run keeps waiting for the real one.
	state := rand.Text()
	got := make(chan callback, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		// In constant time, as every secret this project compares: a
		// page probing the callback learns nothing from the timing.
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			http.Error(w, "unexpected state", http.StatusBadRequest)
			return
		}
		select {
		case got <- callback{code: q.Get("code"), state: q.Get("state"), err: q.Get("error"), iss: q.Get("iss"), hasIss: q.Has("iss")}:
		default:
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "You can close this window and return to the terminal.\n")
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	// Whether the provider sends iss (RFC 9207 §3), read before the
	// browser goes there: an answer without it is then refused.
	issRequired := sendsIss(ctx, base)

	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
	if err := browse(authURL); err != nil {
		return nil, fmt.Errorf("open the authorization URL: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var cb callback
	select {
	case cb = <-got:
	case <-ctx.Done():
		return nil, errors.New("no answer on the redirect URI in time")
	}
	// An answer that names another issuer than the one we sent the
	// request to is not ours to use, whatever it says (RFC 9207 §2.4: a
	// mix-up attack). The provider sends iss when it has an issuer, and
	// then says so in its metadata: an answer without iss is refused too,
	// or a mix-up attacker, who writes the answer, would leave it out.
	if cb.hasIss && cb.iss != c.issuer && cb.iss != base {
		return nil, fmt.Errorf("authorization response from issuer %q, not %q: refused", cb.iss, base)
	}
	if !cb.hasIss && issRequired {
		return nil, fmt.Errorf("authorization response without iss from %q, which sends it: refused", base)
	}
	if cb.err != "" {
		return nil, fmt.Errorf("authorization refused: %s", cb.err)
	}
	tok, err := cfg.Exchange(ctx, cb.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchange the code: %w", err)
	}
	fmt.Fprintf(out, "got a %s token for user %v, scope %q, expiring %s; refresh token: %v\n",
		tok.Type(), tok.Extra("user_id"), tok.Extra("scope"), tok.Expiry.Format(time.RFC3339), tok.RefreshToken != "")

	// Call the API with it.
	resp, err := cfg.Client(ctx, tok).Get(base + "/api/me")
	if err != nil {
		return tok, fmt.Errorf("call /api/me: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(out, "GET /api/me: %d %s\n", resp.StatusCode, strings.TrimSpace(string(body)))
	return tok, nil
}

// checkIssuer refuses a provider the code exchange would reach in clear
// over the network, where its answer, the tokens, could be read: plain
// http is for a provider on this machine.
func checkIssuer(issuer string) error {
	return loopback.CheckURL("-issuer", issuer, "the tokens")
}

// sendsIss reports whether the metadata of the provider whose issuer
// identifier is issuer (RFC 8414 §3: /.well-known/oauth-authorization-server
// inserted before the issuer's path) advertises
// authorization_response_iss_parameter_supported. A provider without
// metadata (one without an issuer answers 404) sends no iss.
func sendsIss(ctx context.Context, issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil {
		return false
	}
	u.Path = "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var m struct {
		IssSupported bool `json:"authorization_response_iss_parameter_supported"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&m) != nil {
		return false
	}
	return m.IssSupported
}
