package main

import (
	"bufio"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
)

// guideCommands returns the oauth2ctl command lines of the first ```sh
// block of docs/operations.md, continuations joined and comments removed,
// each split into its arguments.
func guideCommands(t *testing.T) [][]string {
	t.Helper()
	md, err := os.ReadFile("../../docs/operations.md")
	require.NoError(t, err)
	var (
		cmds    [][]string
		inSh    bool
		pending string
	)
	sc := bufio.NewScanner(strings.NewReader(string(md)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "```") {
			if inSh {
				break // the first sh block only
			}
			inSh = line == "```sh"
			continue
		}
		if !inSh {
			continue
		}
		if i := strings.Index(line, "#"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, pending = pending+line, ""
		if args, ok := strings.CutPrefix(line, "oauth2ctl "); ok {
			require.NotContains(t, args, `'`, "quoted arguments: split them properly")
			require.NotContains(t, args, `"`, "quoted arguments: split them properly")
			cmds = append(cmds, strings.Fields(args))
		}
	}
	return cmds
}

// TestOperationsGuideCommandsAsWritten runs the oauth2ctl session of
// docs/operations.md as written, in order, on each backend: every command
// succeeds.
func TestOperationsGuideCommandsAsWritten(t *testing.T) {
	cmds := guideCommands(t)
	require.Len(t, cmds, 9, "migrate, two creates, list, update, rotate-secret, disable, two revokes")
	storeurltest.Each(t, func(t *testing.T, store string) {
		t.Setenv(envStore, store)
		for _, args := range cmds {
			code, _, errOut := ctl(t, args...)
			assert.Equal(t, exitOK, code, "oauth2ctl %s: %s", strings.Join(args, " "), errOut)
		}
	})
}

// TestOperationsGuideImportAsWritten runs the --secret-stdin line of
// docs/operations.md as written, its "< file" a file holding a secret,
// and checks that the client then authenticates with that secret.
func TestOperationsGuideImportAsWritten(t *testing.T) {
	md, err := os.ReadFile("../../docs/operations.md")
	require.NoError(t, err)
	var line string
	for l := range strings.Lines(string(md)) {
		if strings.HasPrefix(l, "oauth2ctl ") && strings.Contains(l, "--secret-stdin") {
			line = strings.TrimSpace(l)
		}
	}
	require.NotEmpty(t, line, "no --secret-stdin command in docs/operations.md")
	cmd, file, ok := strings.Cut(strings.TrimPrefix(line, "oauth2ctl "), " < ")
	require.True(t, ok, "the command reads its secret from a file: %s", line)
	require.NotContains(t, file, " ")
	args := strings.Fields(cmd)
	i := slices.Index(args, "--id")
	require.GreaterOrEqual(t, i, 0, "the command names the client")
	id := args[i+1]

	store := storeurltest.Redis(t)
	t.Setenv(envStore, store)
	const secret = "the-old-server's secret"
	code, _, errOut := ctlIn(t, secret+"\n", args...)
	require.Equal(t, exitOK, code, "oauth2ctl %s: %s", cmd, errOut)
	_, srv := testProvider(t, store)
	status, _ := passwordGrant(t, srv, id, secret)
	assert.Equal(t, http.StatusOK, status)
}
