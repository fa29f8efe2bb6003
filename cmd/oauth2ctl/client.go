package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/oauth2provider/oauth2provider/internal/clientmod"
	"github.com/oauth2provider/oauth2provider/internal/redirecturi"
	"github.com/oauth2provider/oauth2provider/internal/storeurl"
	"github.com/oauth2provider/oauth2provider/provider"
	"github.com/oauth2provider/oauth2provider/storage"
)

const clientCreateHelp = `Usage: oauth2ctl client create [flags]

Registers a client. A confidential client gets a new secret of 256 random
bits, printed once on stdout: the store keeps only its SHA-256, so it
cannot be shown again (use rotate-secret to replace a lost one). Without
--id the client ID is random.

A client moved from another server keeps the secret its apps hold:
--secret-stdin reads it from the first line of stdin (not from the
command line, where ps and the shell's history would show it), as in
"oauth2ctl client create --id ID --secret-stdin < secret.txt". It is
stored as an argon2id hash, since nobody can vouch for how it was drawn,
which makes each of the client's token requests pay that check (tens of
milliseconds) and throttles its failed attempts: replace it with
rotate-secret once the apps can take a new one.
`

const clientListHelp = `Usage: oauth2ctl client list [--store URL]

Lists the registered clients, one a line: ID, type, status, grant types,
scopes, default scopes, creation time and, last, the redirect URIs the
authorization code grant may send codes to. A list shows "-" when empty,
else its items separated by commas. An item that holds a comma, a double
quote, a space, a control character or invalid UTF-8, or that is "-" or
empty, is shown quoted, with Go escapes, as is an ID that holds a space,
a control character or invalid UTF-8. Secrets are never shown: the store
holds only their hashes, and those are not printed either.
`

const clientDisableHelp = `Usage: oauth2ctl client disable ID [--store URL]

Disables the client, so the provider refuses it from now on, and revokes
every grant issued to it, so its access and refresh tokens stop working at
once.
`

const clientEnableHelp = `Usage: oauth2ctl client enable ID [--store URL]

Enables a client that "client disable" disabled, so the provider takes it
again: its apps can get new tokens with the secret they hold. The tokens
the disable revoked stay revoked. App instances that cache clients
(provider Config.ClientCacheTTL) may refuse it for up to that TTL more.
`

const clientRotateHelp = `Usage: oauth2ctl client rotate-secret ID [--store URL]

Gives a confidential client a new secret of 256 random bits, printed once
on stdout; the old secret stops working at once, except for refresh and
authorization-code grants on app instances that cache clients (provider
Config.ClientCacheTTL), where it works for up to that TTL. Tokens already
issued stay valid: revoke them with "oauth2ctl revoke --client ID" if the
old secret leaked.
`

// listFlag is a comma- or space-separated list flag. Given more than
// once, it adds to the list; the first value replaces the default.
type listFlag struct {
	vals []string
	set  bool // given on the command line: the default is gone
}

func (l *listFlag) String() string { return strings.Join(l.vals, ",") }

func (l *listFlag) Set(v string) error {
	if !l.set {
		l.vals, l.set = nil, true
	}
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if !slices.Contains(l.vals, f) {
			l.vals = append(l.vals, f)
		}
	}
	return nil
}

// repeatedFlag collects every value of a flag given several times.
type repeatedFlag []string

func (r *repeatedFlag) String() string { return strings.Join(*r, " ") }

func (r *repeatedFlag) Set(v string) error { *r = append(*r, v); return nil }

// knownGrantTypes are the grant types a client may be given.
var knownGrantTypes = []string{
	storage.GrantPassword, storage.GrantRefreshToken,
	storage.GrantClientCredentials, storage.GrantAuthorizationCode,
}

// cmdClientCreate registers a client and prints its secret once.
func cmdClientCreate(ctx context.Context, e *env, args []string) error {
	fs := newFlags("client create", clientCreateHelp, e)
	id := fs.String("id", "", "client ID (default: a random one)")
	grantTypes := listFlag{vals: []string{storage.GrantPassword, storage.GrantRefreshToken}}
	fs.Var(&grantTypes, "grant-types", "comma-separated grant types (repeatable): "+strings.Join(knownGrantTypes, ", "))
	var scopes, defaultScopes listFlag
	fs.Var(&scopes, "scopes", "comma-separated scopes the client may request (repeatable) (default: only the provider's default scopes)")
	fs.Var(&defaultScopes, "default-scopes", "comma-separated scopes granted when a request names none (repeatable), each in --scopes, which it needs (default: those of the provider's default scopes the client may request)")
	var redirectURIs repeatedFlag
	fs.Var(&redirectURIs, "redirect-uri", "a redirection endpoint for the authorization code grant, which --grant-types must include (repeatable)")
	public := fs.Bool("public", false, "a public client (RFC 6749 §2.1): no secret")
	firstParty := fs.Bool("first-party", false, "a client of the app itself: skips the authorization code grant's consent page (unless public with a redirect URI that is not https on another host than the user's machine)")
	secretStdin := fs.Bool("secret-stdin", false, "read the client's existing secret from the first line of stdin instead of drawing one (a client moved from another server); needs --id")
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("client create: unexpected argument %q", redacted(rest[0]))
	}
	if *secretStdin {
		switch {
		case *id == "":
			return usagef("client create: --secret-stdin needs --id: the apps that hold the secret know their client by its ID")
		case *public:
			return usagef("client create: --secret-stdin with --public: a public client has no secret")
		}
	}

	c := &storage.Client{
		ID:            *id,
		GrantTypes:    grantTypes.vals,
		Scopes:        scopes.vals,
		DefaultScopes: defaultScopes.vals,
		RedirectURIs:  redirectURIs,
		Public:        *public,
		FirstParty:    *firstParty,
		CreatedAt:     time.Now().UTC(),
	}
	if err := validateNewID(c.ID); err != nil {
		return err
	}
	if err := validateClient("client create", c); err != nil {
		return err
	}
	if c.ID == "" {
		if c.ID, err = randomID(); err != nil {
			return err
		}
	}
	var secret string
	switch {
	case *secretStdin:
		given, err := readSecret(e.stdin)
		if err != nil {
			return err
		}
		if c.SecretHash, err = storage.HashSecret(given); err != nil {
			return err
		}
	case !c.Public:
		if secret, c.SecretHash, err = storage.NewClientSecret(); err != nil {
			return err
		}
	}

	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Clients.CreateClient(ctx, c); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return fmt.Errorf("client %s already exists", shownArg(c.ID))
		}
		return err
	}
	if secret == "" {
		// A random ID that was not printed is not lost ("client list"
		// shows it), but a script reading stdout would go on without it.
		if _, err := fmt.Fprintf(e.stdout, "client_id: %s\n", shown(c.ID)); err != nil {
			return fmt.Errorf("client %s was created, but writing its ID failed: %w", shownArg(c.ID), err)
		}
		if *secretStdin {
			fmt.Fprintf(e.stderr, "The secret is stored as its argon2id hash. Replace it with "+
				"\"oauth2ctl client rotate-secret %s\" once the client's apps can take a new one.\n", shownArg(c.ID))
		}
		return nil
	}
	return showSecret(e, c.ID, secret)
}

// maxGivenSecret is the longest secret --secret-stdin takes, in bytes:
// far more than any server draws, and a bound on what is hashed.
const maxGivenSecret = 512

// readSecret reads the secret that --secret-stdin gives: the first line
// of r, without its line ending (LF or CRLF), the only line there. It
// must be 1 to maxGivenSecret printable ASCII characters (RFC 6749
// Appendix A.2, VSCHAR), without a space at either end, which is far
// likelier a mistake made copying it than part of it. No message shows
// it.
func readSecret(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxGivenSecret+3))
	if err != nil {
		return "", fmt.Errorf("client create: reading the secret from stdin: %w", err)
	}
	line, rest, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	switch {
	case rest != "":
		return "", usagef("client create: --secret-stdin takes one line; stdin holds more")
	case line == "":
		return "", usagef("client create: no secret on stdin (--secret-stdin reads its first line)")
	case len(line) > maxGivenSecret:
		return "", usagef("client create: the secret on stdin is too long: at most %d characters", maxGivenSecret)
	case line[0] == ' ' || line[len(line)-1] == ' ':
		return "", usagef("client create: the secret on stdin begins or ends with a space, likelier a mistake than part of it")
	}
	for i := 0; i < len(line); i++ {
		if line[i] < 0x20 || line[i] > 0x7e {
			return "", usagef("client create: the secret on stdin must be printable ASCII (RFC 6749 Appendix A.2)")
		}
	}
	return line, nil
}

// showSecret prints a client's new secret, the only time it is shown,
// and its ID, which, as "client list" does, it shows as it is unless it
// holds a control character, a space or invalid UTF-8. A failed write (a
// full disk, a closed pipe) loses the secret, so it is an error that says
// how to get another, never the secret itself.
func showSecret(e *env, id, secret string) error {
	if _, err := fmt.Fprintf(e.stdout, "client_id: %s\nclient_secret: %s\n", shown(id), secret); err != nil {
		return fmt.Errorf("client %s has a new secret, but writing it failed (%v): "+
			"get another with \"oauth2ctl client rotate-secret %s\"", shownArg(id), err, shownArg(id))
	}
	fmt.Fprintln(e.stderr, "The secret is shown only this once: the store keeps only its hash.")
	return nil
}

// validateNewID checks the --id of "client create" (empty: a random one
// is drawn).
func validateNewID(id string) error {
	if id != "" && !validID(id) {
		return usagef("client create: --id must be 1 to 128 printable ASCII characters without spaces")
	}
	if strings.HasPrefix(id, "-") {
		// As randomID never draws: "client disable -abc" would read it as
		// a flag, and the client could be named only after a "--".
		return usagef(`client create: --id must not begin with "-": the commands that take a client ID would read it as a flag`)
	}
	return nil
}

// validateClient checks a client as the command cmd ("client create",
// "client update") is about to store it, its ID aside (see
// validateNewID; "client update" cannot change one): every field it
// can set, whether from a flag or, for an update, as stored. It is the
// one place for these rules, and names cmd and the flag that sets the
// field at fault in its usage error.
func validateClient(cmd string, c *storage.Client) error {
	if len(c.GrantTypes) == 0 {
		return usagef("%s: --grant-types is empty", cmd)
	}
	for _, gt := range c.GrantTypes {
		if !slices.Contains(knownGrantTypes, gt) {
			return usagef("%s: unknown grant type %q; want %s", cmd, redacted(gt), strings.Join(knownGrantTypes, ", "))
		}
	}
	// A refresh token is issued only by the password and
	// authorization_code grants (client_credentials never issues one,
	// RFC 6749 §4.4.3): without either, the client would be accepted
	// here and could never get a first refresh token to use.
	if c.AllowsGrant(storage.GrantRefreshToken) &&
		!c.AllowsGrant(storage.GrantPassword) && !c.AllowsGrant(storage.GrantAuthorizationCode) {
		return usagef("%s: refresh_token needs password or authorization_code, the grants that issue refresh tokens", cmd)
	}
	if c.Public && c.AllowsGrant(storage.GrantClientCredentials) {
		return usagef("%s: a public client cannot use client_credentials (RFC 6749 §4.4)", cmd)
	}
	for _, s := range append(slices.Clone(c.Scopes), c.DefaultScopes...) {
		if !validScope(s) {
			return usagef("%s: %q is not a valid scope (RFC 6749 §3.3)", cmd, redacted(s))
		}
	}
	// Without --scopes the client may request only the provider's default
	// scopes, which live in the app's configuration: a default scope
	// outside them would be accepted here and then never granted, so the
	// defaults are checked against the client's own list, which they need.
	if len(c.DefaultScopes) > 0 && len(c.Scopes) == 0 {
		return usagef("%s: --default-scopes needs --scopes (the scopes the client may request, which must include them)", cmd)
	}
	for _, s := range c.DefaultScopes {
		if !slices.Contains(c.Scopes, s) {
			return usagef("%s: default scope %q is not in --scopes", cmd, redacted(s))
		}
	}
	for _, u := range c.RedirectURIs {
		p, err := redirecturi.Parse(u)
		if errors.Is(err, redirecturi.ErrNotURI) {
			return usagef("%s: --redirect-uri %q: %v", cmd, redacted(u), err)
		}
		if err != nil {
			return usagef("%s: --redirect-uri %q must be an absolute URI without a fragment (RFC 6749 §3.1.2)", cmd, redacted(u))
		}
		if err := checkRedirectScheme(p); err != nil {
			return usagef("%s: --redirect-uri %q: %v", cmd, redacted(u), err)
		}
		if err := redirecturi.CheckQuery(p.RawQuery); err != nil {
			return usagef("%s: --redirect-uri %q: %v", cmd, redacted(u), err)
		}
	}
	if c.AllowsGrant(storage.GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		return usagef("%s: authorization_code needs at least one --redirect-uri", cmd)
	}
	// A redirect URI serves only the authorization code grant: without
	// it, the URI would be stored, never used, and the operator left
	// thinking the code flow set up.
	if len(c.RedirectURIs) > 0 && !c.AllowsGrant(storage.GrantAuthorizationCode) {
		return usagef("%s: --redirect-uri needs --grant-types with authorization_code, the only grant that redirects (such as --grant-types authorization_code,refresh_token)", cmd)
	}
	// First-party only skips the code flow's consent page: on any other
	// client it would be stored and change nothing.
	if c.FirstParty && !c.AllowsGrant(storage.GrantAuthorizationCode) {
		return usagef("%s: --first-party needs --grant-types with authorization_code: it only skips that grant's consent page", cmd)
	}
	return nil
}

// checkRedirectScheme refuses redirect URIs that would hand the
// authorization code to a script or to the network in clear (see
// [redirecturi.CheckScheme]), and a native app's private-use scheme that
// is not a reverse domain name (com.example.app:/cb): one without a
// period, such as myapp: or urn:, which any other app on the device may
// claim too (RFC 8252 §7.1; §8.4 says to refuse it at registration).
func checkRedirectScheme(p *url.URL) error {
	if err := redirecturi.CheckScheme(p); err != nil {
		return err
	}
	switch s := strings.ToLower(p.Scheme); {
	case s == "http" || s == "https":
	case !strings.Contains(s, "."):
		return errors.New("a native app's private-use scheme must be a reverse domain name it controls, such as com.example.app (RFC 8252 §7.1, §8.4)")
	}
	return nil
}

// validID reports whether id is a usable client ID.
func validID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= 0x20 || id[i] >= 0x7f {
			return false
		}
	}
	return true
}

// validScope reports whether s is a scope-token of RFC 6749 §3.3.
func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// randomID returns a new client ID: 96 random bits, base64url, drawn
// again when it begins with "-" (1 in 64), which the commands that take a
// client ID would read as a flag.
func randomID() (string, error) {
	for {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		if id := base64.RawURLEncoding.EncodeToString(b[:]); id[0] != '-' {
			return id, nil
		}
	}
}

// cmdClientList prints the registered clients, never their secrets.
func cmdClientList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("client list", clientListHelp, e)
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("client list: unexpected argument %q", redacted(rest[0]))
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	clients, err := s.Clients.ListClients(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tSTATUS\tGRANT TYPES\tSCOPES\tDEFAULT SCOPES\tCREATED\tREDIRECT URIS")
	for _, c := range clients {
		typ := "confidential"
		if c.Public {
			typ = "public"
		}
		if c.FirstParty {
			typ += ",first-party"
		}
		status := "enabled"
		if c.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", shown(c.ID), typ, status,
			orDash(c.GrantTypes), orDash(c.Scopes), orDash(c.DefaultScopes),
			createdAt(c.CreatedAt), orDash(c.RedirectURIs))
	}
	return tw.Flush()
}

// createdAt formats a client's creation time, or returns "-" for the zero
// time: a client created through the library without a CreatedAt has no
// known creation time.
func createdAt(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// orDash returns a list as "client list" shows it (grant types, scopes,
// redirect URIs): "-" for none, else separated by commas, each shown,
// and quoted as well when it could read as something else: when it holds
// a comma (which a URI's path or query, or a scope stored through the
// library, may hold) or a double quote, or is empty or "-". The cell
// reads back to exactly the stored list.
func orDash(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	out := make([]string, len(l))
	for i, v := range l {
		if v == "" || v == "-" || strings.ContainsAny(v, `,"`) {
			out[i] = strconv.Quote(v)
		} else {
			out[i] = shown(v)
		}
	}
	return strings.Join(out, ",")
}

// shown returns v, a value read from the store, as it may go to a
// terminal: as it is when it is printable text without spaces, else
// quoted with its escapes (strconv.Quote). The store may hold what this
// command would not have written (a client created through the library, a
// tampered record): an escape sequence, a carriage return, a tab or a
// newline would redraw the screen or forge a row.
func shown(v string) string {
	for _, r := range v {
		if r == utf8.RuneError || !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return strconv.Quote(v)
		}
	}
	return v
}

// oneID parses a command that takes exactly one client ID.
func oneID(fs *flags, name string, args []string) (string, error) {
	rest, err := fs.parse(args)
	if err != nil {
		return "", err
	}
	if len(rest) != 1 || rest[0] == "" {
		return "", usagef("%s: want exactly one client ID", name)
	}
	return rest[0], nil
}

// openForOne reads the one client ID of the command name (whose usage is
// help) from args and opens the store; the caller closes it.
func openForOne(ctx context.Context, e *env, name, help string, args []string) (string, *storeurl.Stores, error) {
	id, err := oneID(newFlags(name, help, e), name, args)
	if err != nil {
		return "", nil, err
	}
	s, err := e.open(ctx)
	if err != nil {
		return "", nil, err
	}
	return id, s, nil
}

// cmdClientDisable disables a client and revokes its grants, as
// provider.DisableClient does.
func cmdClientDisable(ctx context.Context, e *env, args []string) error {
	id, s, err := openForOne(ctx, e, "client disable", clientDisableHelp, args)
	if err != nil {
		return err
	}
	defer s.Close()
	p, err := provider.New(provider.Config{Clients: s.Clients, Tokens: s.Tokens})
	if err != nil {
		return err
	}
	n, err := p.DisableClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no client %s", shownArg(id))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "client %s disabled; revoked %d grant(s)\n", shownArg(id), n)
	return nil
}

// cmdClientEnable clears a client's Disabled, with the revision it read
// (clientmod.Modify), so it never undoes a concurrent update.
func cmdClientEnable(ctx context.Context, e *env, args []string) error {
	id, s, err := openForOne(ctx, e, "client enable", clientEnableHelp, args)
	if err != nil {
		return err
	}
	defer s.Close()
	was := false
	err = clientmod.Modify(ctx, s.Clients, id, func(c *storage.Client) (bool, error) {
		was = c.Disabled
		c.Disabled = false
		return was, nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("no client %s", shownArg(id))
	case errors.Is(err, storage.ErrConflict):
		return fmt.Errorf("client %s kept changing while it was enabled; nothing changed, try again: %w", shownArg(id), err)
	case err != nil:
		return err
	case !was:
		fmt.Fprintf(e.stdout, "client %s was not disabled; nothing changed\n", shownArg(id))
		return nil
	}
	fmt.Fprintf(e.stdout, "client %s enabled; the tokens its disable revoked stay revoked\n", shownArg(id))
	return nil
}

// cmdClientRotateSecret gives a client a new secret and prints it once.
func cmdClientRotateSecret(ctx context.Context, e *env, args []string) error {
	id, s, err := openForOne(ctx, e, "client rotate-secret", clientRotateHelp, args)
	if err != nil {
		return err
	}
	defer s.Close()
	secret, hash, err := storage.NewClientSecret()
	if err != nil {
		return err
	}
	if err := setSecretHash(ctx, s.Clients, id, hash); err != nil {
		return err
	}
	return showSecret(e, id, secret)
}

// maxRotateTries bounds the reads and updates of setSecretHash.
const maxRotateTries = clientmod.Tries

// errPublic stops setSecretHash on a client that is public when read.
var errPublic = errors.New("public client")

// setSecretHash makes hash the secret of the confidential client id. It
// updates the client with the revision it read (clientmod.Modify), so it
// never undoes a concurrent update, such as a disable, and is never
// silently undone by one. When the client changed in between it reads it
// again (refusing it should it now be public) and retries with the same
// hash, up to a few times.
//
// An update that failed with another error (a timeout, a dropped
// connection) may have been written all the same, and the old secret may
// have stopped working: the error says so, and to rotate again.
func setSecretHash(ctx context.Context, clients storage.ClientStore, id, hash string) error {
	writeFailed, err := clientmod.ModifyOutcome(ctx, clients, id, func(c *storage.Client) (bool, error) {
		if c.Public {
			return false, errPublic
		}
		c.SecretHash = hash
		return true, nil
	})
	switch {
	case errors.Is(err, errPublic):
		return fmt.Errorf("client %s is public: it has no secret", shownArg(id))
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("no client %s", shownArg(id))
	case errors.Is(err, storage.ErrConflict):
		return fmt.Errorf("client %s kept changing while its secret was rotated; nothing changed, try again: %w", shownArg(id), err)
	case writeFailed:
		return fmt.Errorf("client %s: the update of its secret failed (%w), but may have been written: "+
			"its secret may have been replaced, and the old one may no longer work; "+
			"get a new one with \"oauth2ctl client rotate-secret %s\"", shownArg(id), err, shownArg(id))
	}
	return err
}
