package main

import (
	"bufio"
	"os"
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
	require.Len(t, cmds, 8, "migrate, two creates, list, rotate-secret, disable, two revokes")
	storeurltest.Each(t, func(t *testing.T, store string) {
		t.Setenv(envStore, store)
		for _, args := range cmds {
			code, _, errOut := ctl(t, args...)
			assert.Equal(t, exitOK, code, "oauth2ctl %s: %s", strings.Join(args, " "), errOut)
		}
	})
}
