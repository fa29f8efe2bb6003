package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/oauth2provider/oauth2provider/internal/storeurl"
	"github.com/oauth2provider/oauth2provider/storage/postgres"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// envStore names the environment variable with the default store URL.
const envStore = "OAUTH2_STORE"

const mainUsage = `Usage: oauth2ctl [--store URL] <command> [flags]

Commands:
  migrate                        apply the Postgres schema migrations
  client create [flags]          register a client; prints its secret once
  client list                    list the registered clients and redirect URIs
  client update ID [flags]       change a client's redirect URIs, grant types,
                                 scopes, default scopes or first-party mark
  client disable ID              disable a client and revoke its tokens
  client enable ID               take a disabled client again
  client rotate-secret ID        give a client a new secret; prints it once
  revoke --user ID | --client ID revoke every token of a user or a client

The store is a URL: postgres://… (or postgresql://…), redis://…,
rediss://…, redis+cluster://host1:port,host2:port… or rediss+cluster://…,
from --store or $OAUTH2_STORE.
Run "oauth2ctl <command> --help" for a command's flags.
`

// env is what every command gets: where to read and write and which
// store to use.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	store          string // the global --store, or $OAUTH2_STORE
	storeFrom      string // where store came from, for messages: "--store" or "$OAUTH2_STORE"
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// shownArg returns an argument or an ID, typed by the operator or read
// from the store, as a message may show it: a URL (a store URL given
// without --store or where an ID belongs, say) without its password, and
// quoted with its escapes, as shown does, when it holds a control
// character, a space or invalid UTF-8. Every message that names an ID
// shows it through shownArg (or redacted with %q).
func shownArg(arg string) string {
	return shown(redacted(arg))
}

// redacted returns arg, when it looks like a URL, without its password,
// and not escaped: a message shows it with %q, which escapes control
// characters once; %s needs shownArg.
func redacted(arg string) string {
	if strings.Contains(arg, "://") {
		return storeurl.RedactUnescaped(arg)
	}
	return arg
}

// shownMessage returns a message of the flag package, which echoes a
// flag's name or value as typed, as oauth2ctl may show it: each
// space-separated word that looks like a URL without its password, and
// every control character (or other rune that does not print) escaped,
// as Go quotes it.
func shownMessage(msg string) string {
	words := strings.Split(msg, " ")
	for i, w := range words {
		words[i] = redacted(w)
	}
	return storeurl.Printable(strings.Join(words, " "))
}

// errHelp reports that --help was asked for and the usage was printed.
var errHelp = errors.New("help printed")

// run runs oauth2ctl with args (without the program name) and returns the
// exit status. Tests call it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, store: os.Getenv(envStore), storeFrom: "$" + envStore}
	fs := newFlags("oauth2ctl", mainUsage, e)
	// Global flags end at the command's name.
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, mainUsage)
	} else if err != nil {
		err = &flagError{err}
	} else {
		err = dispatch(ctx, e, fs.Args())
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp), errors.Is(err, flag.ErrHelp):
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) || isFlagError(err) {
		if ue != nil {
			fmt.Fprintln(stderr, "oauth2ctl:", ue.msg)
		} else {
			fmt.Fprintln(stderr, "oauth2ctl:", shownMessage(err.Error()))
		}
		fmt.Fprintln(stderr, `Run "oauth2ctl --help" for usage.`)
		return exitUsage
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		// A store call that a signal cut short says so, whatever the
		// driver made of it (go-redis: its client closed under it).
		err = fmt.Errorf("%w: %w", err, ctx.Err())
	}
	fmt.Fprintln(stderr, "oauth2ctl:", err)
	// A missing schema at migrate (SQLSTATE 3F000) needs no hint here:
	// postgres.Migrate's error says to create it; nor does an error of
	// the Postgres store, which says to migrate.
	if missingTables(err) && !errors.Is(err, postgres.ErrNotMigrated) {
		fmt.Fprintln(stderr, `oauth2ctl: the store has no oauth2 tables in this database and search_path: run "oauth2ctl migrate" first`)
	}
	return exitFailure
}

// missingTables reports whether err is Postgres saying that a table
// does not exist (SQLSTATE 42P01: a database that "oauth2ctl migrate" has
// not prepared, or a search_path naming another schema).
func missingTables(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01" // undefined_table
}

// dispatch runs the command named by args[0].
func dispatch(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("no command")
	}
	switch args[0] {
	case "migrate":
		return cmdMigrate(ctx, e, args[1:])
	case "client":
		if len(args) < 2 {
			return usagef("client: want create, list, update, disable, enable or rotate-secret")
		}
		switch args[1] {
		case "create":
			return cmdClientCreate(ctx, e, args[2:])
		case "list":
			return cmdClientList(ctx, e, args[2:])
		case "update":
			return cmdClientUpdate(ctx, e, args[2:])
		case "disable":
			return cmdClientDisable(ctx, e, args[2:])
		case "enable":
			return cmdClientEnable(ctx, e, args[2:])
		case "rotate-secret":
			return cmdClientRotateSecret(ctx, e, args[2:])
		case "-h", "-help", "--help", "help":
			fmt.Fprint(e.stdout, mainUsage)
			return errHelp
		}
		return usagef("client %s: unknown command; want create, list, update, disable, enable or rotate-secret", shownArg(args[1]))
	case "revoke":
		return cmdRevoke(ctx, e, args[1:])
	case "help":
		fmt.Fprint(e.stdout, mainUsage)
		return errHelp
	}
	return usagef("%s: unknown command", shownArg(args[0]))
}

// flagError marks the error of a flag set, whose message run prints
// (through shownMessage).
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }

func isFlagError(err error) bool {
	var fe *flagError
	return errors.As(err, &fe)
}

// flags are a command's flag set and help text.
type flags struct {
	*flag.FlagSet
	help string
	e    *env
}

// newFlags returns the flag set of a command whose help text is help,
// with the --store flag, which may be given after the command too.
func newFlags(name, help string, e *env) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	// The flag package would print its error with the flag's name or
	// value as typed (a control character, a store URL's password): run
	// prints it through shownMessage instead.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // parse prints the help; errors need none
	// A flag with no default of its own: --help prints flag defaults, and
	// the store URL, which may hold a password, must not be one of them.
	fs.Func("store", "store URL (default $"+envStore+")", func(v string) error {
		e.store, e.storeFrom = v, "--store"
		return nil
	})
	return &flags{FlagSet: fs, help: help, e: e}
}

// parse parses args, flags and positional arguments in any order (a
// lone "--" ends the flags), and returns the positional ones. On --help it
// prints the command's help and flags to stdout and returns
// flag.ErrHelp; a bad flag is a usage error (a *flagError), whose
// message run prints.
func (f *flags) parse(args []string) ([]string, error) {
	var positional []string
	for {
		err := f.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(f.e.stdout, f.help)
			fmt.Fprintln(f.e.stdout, "\nFlags:")
			f.SetOutput(f.e.stdout)
			f.PrintDefaults()
			return nil, err
		}
		if err != nil {
			return nil, &flagError{err}
		}
		rest := f.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// open opens the store chosen by --store or $OAUTH2_STORE.
func (e *env) open(ctx context.Context) (*storeurl.Stores, error) {
	if e.store == "" {
		return nil, usagef("no store: give --store URL or set %s", envStore)
	}
	s, err := storeurl.Open(ctx, e.store, storeurl.Options{})
	if err == nil && s.Backend == storeurl.Redis {
		// go-redis watches a context's deadline, not its cancellation:
		// closing the client ends a wait on a server that went silent
		// when a signal cancels ctx, as pgx does by itself.
		context.AfterFunc(ctx, s.Close)
	}
	if errors.Is(err, storeurl.ErrUnsupported) {
		// storeurl.RedactUnescaped, not redacted: a store that is not a
		// URL may still hold a password (user:pass@host); it shows as
		// "(not a URL)". Unescaped, as shown escapes it once: Redact's
		// escapes, quoted again, showed \\x1b. Named by its source: an
		// operator who typed no --store looks in the environment.
		return nil, usagef("%s %s: want a postgres:// (or postgresql://), redis://, rediss://, redis+cluster:// or rediss+cluster:// URL", e.storeFrom, shown(storeurl.RedactUnescaped(e.store)))
	}
	return s, err
}
