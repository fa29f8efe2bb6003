package main

import (
	"context"
	"fmt"
)

const revokeHelp = `Usage: oauth2ctl revoke --user ID | --client ID [--store URL]

Revokes every grant, and so every access and refresh token, of a user (by
the user ID the app's AuthChecker returns) or of a client. The client stays
enabled: use "oauth2ctl client disable" to refuse it from now on.
`

// cmdRevoke revokes every grant of a user or a client.
func cmdRevoke(ctx context.Context, e *env, args []string) error {
	fs := newFlags("revoke", revokeHelp, e)
	user := fs.String("user", "", "revoke the grants of this user ID")
	client := fs.String("client", "", "revoke the grants of this client ID")
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("revoke: unexpected argument %q", rest[0])
	}
	if (*user == "") == (*client == "") {
		return usagef("revoke: give exactly one of --user and --client")
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if *user != "" {
		n, err := s.Tokens.RevokeUser(ctx, *user)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked %d grant(s) of user %s\n", n, *user)
		return nil
	}
	n, err := s.Tokens.RevokeClient(ctx, *client)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "revoked %d grant(s) of client %s\n", n, *client)
	return nil
}
