package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/oauth2provider/oauth2provider/internal/clientmod"
	"github.com/oauth2provider/oauth2provider/storage"
)

const clientUpdateHelp = `Usage: oauth2ctl client update ID [flags]

Changes a registered client's redirect URIs, grant types, scopes, default
scopes or first-party mark. Only the flags given change anything: a list
flag replaces the client's whole list with the values given (all of its
--redirect-uri flags together, say, replace every redirect URI it had),
and --redirect-uri "" alone removes them all. The client must then pass
the checks of "client create", with the fields not given as stored. Its
ID, secret (see rotate-secret), type (public or confidential) and status
(see disable and enable) stay as they are.

It prints each field it changed, old and new, as "client list" shows
them. Tokens already issued keep the scopes they were given: to take a
scope away from them too, also "oauth2ctl revoke --client ID". App
instances that cache clients (provider Config.ClientCacheTTL) may go on
with the old settings for up to that TTL.

The client is updated at the revision read, as disable, enable and
rotate-secret do: should another write land in between, it is read again
and the change made on what that write left.
`

// updateFlags are the flags of "client update" that change a field.
var updateFlags = []string{"redirect-uri", "grant-types", "scopes", "default-scopes", "first-party"}

// cmdClientUpdate changes the fields of a client given by flags, at the
// revision it read (clientmod.ModifyOutcome), after the checks of client
// create (validateClient), and prints what changed.
func cmdClientUpdate(ctx context.Context, e *env, args []string) error {
	const name = "client update"
	fs := newFlags(name, clientUpdateHelp, e)
	var redirectURIs repeatedFlag
	fs.Var(&redirectURIs, "redirect-uri", `a redirection endpoint for the authorization code grant (repeatable): together they replace the client's list; "" alone empties it`)
	var grantTypes, scopes, defaultScopes listFlag
	fs.Var(&grantTypes, "grant-types", "comma-separated grant types (repeatable), replacing the client's: "+strings.Join(knownGrantTypes, ", "))
	fs.Var(&scopes, "scopes", `comma-separated scopes the client may request (repeatable), replacing the client's; "" for only the provider's default scopes`)
	fs.Var(&defaultScopes, "default-scopes", `comma-separated scopes granted when a request names none (repeatable), replacing the client's, each in its scopes; "" for those of the provider's default scopes the client may request`)
	firstParty := fs.Bool("first-party", false, "a client of the app itself, which skips the authorization code grant's consent page; --first-party=false for one that does not")
	id, err := oneID(fs, name, args)
	if err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !slices.ContainsFunc(updateFlags, func(f string) bool { return given[f] }) {
		return usagef("%s: nothing to change: give --%s", name, strings.Join(updateFlags, ", --"))
	}
	if given["redirect-uri"] && slices.Contains(redirectURIs, "") {
		if len(redirectURIs) > 1 {
			return usagef(`%s: --redirect-uri "" (no redirect URIs) with another --redirect-uri`, name)
		}
		redirectURIs = nil
	}

	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	changes, err := updateClient(ctx, s.Clients, id, func(c *storage.Client) {
		if given["redirect-uri"] {
			c.RedirectURIs = slices.Clone([]string(redirectURIs))
		}
		if given["grant-types"] {
			c.GrantTypes = slices.Clone(grantTypes.vals)
		}
		if given["scopes"] {
			c.Scopes = slices.Clone(scopes.vals)
		}
		if given["default-scopes"] {
			c.DefaultScopes = slices.Clone(defaultScopes.vals)
		}
		if given["first-party"] {
			c.FirstParty = *firstParty
		}
	})
	switch {
	case err != nil:
		return err
	case len(changes) == 0:
		fmt.Fprintf(e.stdout, "client %s already has these settings; nothing changed\n", shownArg(id))
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "client %s updated\n", shownArg(id))
	for _, ch := range changes {
		fmt.Fprintf(&b, "  %s: %s -> %s\n", ch.field, ch.from, ch.to)
	}
	if _, err := fmt.Fprint(e.stdout, b.String()); err != nil {
		return fmt.Errorf("client %s was updated, but writing what changed failed: %w", shownArg(id), err)
	}
	return nil
}

// fieldChange is one field an update changed, as "client list" shows
// its values.
type fieldChange struct{ field, from, to string }

// clientChanges returns the fields of "client update" that differ from
// old to c, in the order of the columns of "client list". An empty list
// and a nil one are the same.
func clientChanges(old, c *storage.Client) []fieldChange {
	var out []fieldChange
	list := func(field string, from, to []string) {
		if !slices.Equal(from, to) {
			out = append(out, fieldChange{field, orDash(from), orDash(to)})
		}
	}
	if old.FirstParty != c.FirstParty {
		out = append(out, fieldChange{"first-party", yesNo(old.FirstParty), yesNo(c.FirstParty)})
	}
	list("grant types", old.GrantTypes, c.GrantTypes)
	list("scopes", old.Scopes, c.Scopes)
	list("default scopes", old.DefaultScopes, c.DefaultScopes)
	list("redirect URIs", old.RedirectURIs, c.RedirectURIs)
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// updateClient changes the client id with apply, checks the result as
// "client create" checks a new client (validateClient) and updates it
// with the revision it read (clientmod.ModifyOutcome): should another
// write land in between, it reads the client again and applies the
// change to what that write left, up to a few times. It returns the
// fields that changed; none, and nothing written, when the client
// already had them.
func updateClient(ctx context.Context, clients storage.ClientStore, id string, apply func(*storage.Client)) ([]fieldChange, error) {
	const name = "client update"
	var changes []fieldChange
	writeFailed, err := clientmod.ModifyOutcome(ctx, clients, id, func(c *storage.Client) (bool, error) {
		old := *c
		apply(c)
		if err := validateClient(name, c); err != nil {
			return false, err
		}
		changes = clientChanges(&old, c)
		return len(changes) > 0, nil
	})
	var ue *usageError
	switch {
	case err == nil:
		return changes, nil
	case errors.As(err, &ue):
		return nil, err
	case errors.Is(err, storage.ErrNotFound):
		return nil, fmt.Errorf("no client %s", shownArg(id))
	case errors.Is(err, storage.ErrConflict):
		return nil, fmt.Errorf("client %s kept changing while it was updated; nothing changed, try again: %w", shownArg(id), err)
	case errors.Is(err, storage.ErrInvalidSecretHash):
		// The store's Validate refuses it before writing anything; its
		// error names the client, never the hash.
		return nil, fmt.Errorf("%s: nothing changed: %w; a confidential client gets a secret in a stored form with "+
			"\"oauth2ctl client rotate-secret %s\"", name, err, shownArg(id))
	case writeFailed:
		return nil, fmt.Errorf("client %s: the update failed (%w), but may have been written: "+
			"see \"oauth2ctl client list\", or run the same update again", shownArg(id), err)
	}
	return nil, err
}
