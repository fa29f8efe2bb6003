package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/oauth2provider/oauth2provider/storage"
)

const revokeHelp = `Usage: oauth2ctl revoke --user ID | --client ID [--store URL]

Revokes every grant, and so every access and refresh token, of a user (by
the user ID the app's AuthChecker returns) or of a client. The client stays
enabled: use "oauth2ctl client disable" to refuse it from now on. A
client that does not exist is a failure (exit status 1).
`

// cmdRevoke revokes every grant of a user or a client.
func cmdRevoke(ctx context.Context, e *env, args []string) error {
	fs := newFlags("revoke", revokeHelp, e)
	var user, client onceFlag
	fs.Var(&user, "user", "revoke the grants of this user `ID`")
	fs.Var(&client, "client", "revoke the grants of this client `ID`")
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("revoke: unexpected argument %q", redacted(rest[0]))
	}
	if (user.v == "") == (client.v == "") {
		return usagef("revoke: give exactly one of --user and --client")
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if user.v != "" {
		n, err := s.Tokens.RevokeUser(ctx, user.v)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked %d grant(s) of user %s\n", n, shownArg(user.v))
		return nil
	}
	n, err := s.Tokens.RevokeClient(ctx, client.v)
	if err != nil {
		return err
	}
	if n == 0 {
		// Nothing revoked: a typo in the ID would otherwise pass for
		// success while the real client's tokens live on. A client no
		// longer in the store still has its grants revoked above.
		if _, err := s.Clients.GetClient(ctx, client.v); errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no client %s; nothing revoked", shownArg(client.v))
		} else if err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "revoked %d grant(s) of client %s\n", n, shownArg(client.v))
	return nil
}

// onceFlag is a string flag that may be given once: revoke --user a
// --user b would otherwise revoke b's grants alone, and a's tokens would
// live on while the operator thinks them revoked.
type onceFlag struct {
	v   string
	set bool
}

func (o *onceFlag) String() string { return o.v }

func (o *onceFlag) Set(v string) error {
	if o.set {
		return errors.New("given twice: revoke one at a time")
	}
	o.v, o.set = v, true
	return nil
}
