package main

import (
	"context"
	"fmt"

	"github.com/oauth2provider/oauth2provider/internal/storeurl"
)

const migrateHelp = `Usage: oauth2ctl migrate [--store URL]

Applies the schema migrations embedded in this binary to the Postgres
database of --store (in the first schema of its search_path, which must
exist). It is safe to run from several places at once and does nothing
when the schema is up to date, or newer than this binary's (a later
release migrated it: it is left as it is, and the output says so). Run
it at deploy time, before starting the new version of the app. Redis
keeps no schema: there is nothing to do.
`

// cmdMigrate applies the Postgres schema migrations.
func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags("migrate", migrateHelp, e)
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("migrate: unexpected argument %q", redacted(rest[0]))
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if s.Backend != storeurl.Postgres {
		fmt.Fprintf(e.stdout, "nothing to migrate: %s keeps no schema\n", s.Backend)
		return nil
	}
	before, _, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	after, latest, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if after > latest {
		// A later release migrated it: Migrate leaves such a schema
		// alone, and it is not this binary's to call up to date.
		fmt.Fprintf(e.stdout, "schema version %d is newer than this binary's (version %d): left as it is\n", after, latest)
		return nil
	}
	if after == before {
		fmt.Fprintf(e.stdout, "schema is up to date (version %d)\n", after)
	} else {
		fmt.Fprintf(e.stdout, "migrated the schema from version %d to version %d\n", before, after)
	}
	return nil
}
