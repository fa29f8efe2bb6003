package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oauth2provider/oauth2provider/internal/storeurl/storeurltest"
	"github.com/oauth2provider/oauth2provider/storage"
)

// listCells returns the cells of the column named col in the output of
// "client list", by client ID: the text from the column's header offset
// to the next column's (the rest of the line for the last column). The
// IDs and the cells before col must be ASCII, which tabwriter aligns by
// bytes as it does by runes.
func listCells(t *testing.T, out, col string) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.NotEmpty(t, lines)
	header := lines[0]
	start := strings.Index(header, col)
	require.GreaterOrEqual(t, start, 0, "no column %s in %q", col, header)
	end := -1
	if rest := header[start+len(col):]; strings.TrimLeft(rest, " ") != "" {
		end = start + len(col) + len(rest) - len(strings.TrimLeft(rest, " "))
	}
	cells := map[string]string{}
	for _, l := range lines[1:] {
		require.GreaterOrEqual(t, len(l), start, "row %q", l)
		id, _, _ := strings.Cut(l, " ")
		if end < 0 {
			cells[id] = l[start:]
		} else {
			cells[id] = strings.TrimRight(l[start:end], " ")
		}
	}
	return cells
}

// parseListCell reads a list cell of "client list" back: "-" is the
// empty list, else elements separated by commas, each as it is (without
// a space or a double quote) or, when it begins with a double quote, a
// Go-quoted string.
func parseListCell(cell string) ([]string, error) {
	if cell == "-" {
		return nil, nil
	}
	var l []string
	for {
		var v string
		if strings.HasPrefix(cell, `"`) {
			q, err := strconv.QuotedPrefix(cell)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", cell, err)
			}
			if v, err = strconv.Unquote(q); err != nil {
				return nil, err
			}
			cell = cell[len(q):]
		} else {
			i := strings.IndexByte(cell, ',')
			if i < 0 {
				i = len(cell)
			}
			v, cell = cell[:i], cell[i:]
			if strings.ContainsAny(v, " \"") {
				return nil, fmt.Errorf("unquoted element %q holds a space or a quote", v)
			}
		}
		l = append(l, v)
		if cell == "" {
			return l, nil
		}
		if cell[0] != ',' {
			return nil, fmt.Errorf("%q: want a comma after an element", cell)
		}
		cell = cell[1:]
	}
}

// "client list" shows each client's redirect URIs, where the
// authorization code grant may send its codes, in a last column that
// reads back to exactly the stored list: "-" for none, one URI as it is,
// several separated by commas, and a URI that holds a comma, a space,
// a quote or a control character, or that could read as "-" or as a
// quoted one, quoted. The list showed
// no redirect URIs at all.
func TestClientListShowsRedirectURIs(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, store string) {
		t.Setenv(envStore, store)
		code, _, errOut := ctl(t, "migrate")
		require.Equal(t, exitOK, code, errOut)

		code, _, errOut = ctl(t, "client", "create", "--id", "none")
		require.Equal(t, exitOK, code, errOut)
		code, _, errOut = ctl(t, "client", "create", "--id", "one", "--grant-types", "authorization_code",
			"--redirect-uri", "https://one.example/cb")
		require.Equal(t, exitOK, code, errOut)
		// What create takes: a comma in the query, a native app's
		// scheme, a loopback port, a percent-encoded space.
		several := []string{
			"https://shop.example/cb?tenant=7,8", "com.example.app:/oauth2redirect", "http://127.0.0.1:8080/cb",
			"https://shop.example/a%20b",
		}
		args := []string{"client", "create", "--id", "several", "--grant-types", "authorization_code,refresh_token"}
		for _, u := range several {
			args = append(args, "--redirect-uri", u)
		}
		code, _, errOut = ctl(t, args...)
		require.Equal(t, exitOK, code, errOut)
		// What only the library stores: values that would read as "no
		// URI", as a quoted one or as two, and characters no URI holds
		// (create refuses them), a space, a quote, a rune outside ASCII.
		odd := []string{"-", "", `"https://odd.example/cb"`, "https://odd.example/a,b", "https://odd.example/\x1b[2K\r",
			"https://odd.example/a b", `https://odd.example/cb?q="x"`, "https://odd.example/é"}
		storeClients(t, &storage.Client{ID: "odd", SecretHash: storage.HashGeneratedSecret("s"),
			GrantTypes: []string{storage.GrantAuthorizationCode}, RedirectURIs: odd})

		code, out, errOut := ctl(t, "client", "list")
		require.Equal(t, exitOK, code, errOut)
		assert.NotContains(t, out, "\x1b")
		assert.NotContains(t, out, "\r")
		assert.Equal(t, 5, strings.Count(out, "\n"), "a header and one row per client: %q", out)
		cells := listCells(t, out, "REDIRECT URIS")
		require.Len(t, cells, 4, out)
		assert.Equal(t, "-", cells["none"])
		assert.Equal(t, "https://one.example/cb", cells["one"])
		for id, want := range map[string][]string{"none": nil, "one": {"https://one.example/cb"}, "several": several, "odd": odd} {
			got, err := parseListCell(cells[id])
			require.NoError(t, err, "%s: %q", id, cells[id])
			assert.Equal(t, want, got, "%s: %q", id, cells[id])
		}
	})
}

// The other list columns of "client list" read back as the redirect URIs
// do: a scope or grant type stored through the library that holds a
// comma or a double quote, or that is "-" or empty (alone in its list,
// where it would read as none or leave the cell blank), is quoted. A scope
// "read,write" showed as the two scopes read and write, and a scope "-"
// as no scope at all.
func TestClientListColumnsReadBack(t *testing.T) {
	storeurltest.Each(t, func(t *testing.T, store string) {
		t.Setenv(envStore, store)
		code, _, errOut := ctl(t, "migrate")
		require.Equal(t, exitOK, code, errOut)
		c := &storage.Client{ID: "odd", SecretHash: storage.HashGeneratedSecret("s"),
			GrantTypes:    []string{storage.GrantPassword, "x,y", `"q"`},
			Scopes:        []string{"read,write", "-", "", `a"b`, "ok"},
			DefaultScopes: []string{"-"}, RedirectURIs: []string{""}}
		storeClients(t, c)
		code, out, errOut := ctl(t, "client", "list")
		require.Equal(t, exitOK, code, errOut)
		for col, want := range map[string][]string{"GRANT TYPES": c.GrantTypes, "SCOPES": c.Scopes, "DEFAULT SCOPES": c.DefaultScopes, "REDIRECT URIS": c.RedirectURIs} {
			cell := listCells(t, out, col)["odd"]
			assert.NotEmpty(t, cell, "%s: a blank cell would shift the fields of a split line", col)
			got, err := parseListCell(cell)
			require.NoError(t, err, "%s: %q", col, cell)
			assert.Equal(t, want, got, "%s: %q", col, cell)
		}
	})
}

// The TYPE column says public or confidential, and first-party apart
// from either.
func TestClientListShowsEachType(t *testing.T) {
	t.Setenv(envStore, storeurltest.Redis(t))
	storeClients(t,
		&storage.Client{ID: "pub", Public: true, GrantTypes: []string{storage.GrantPassword}},
		&storage.Client{ID: "conf1p", SecretHash: storage.HashGeneratedSecret("s"), FirstParty: true,
			GrantTypes: []string{storage.GrantAuthorizationCode}, RedirectURIs: []string{"https://a.example/cb"}},
	)
	code, out, errOut := ctl(t, "client", "list")
	require.Equal(t, exitOK, code, errOut)
	types := listCells(t, out, "TYPE")
	assert.Equal(t, "public", types["pub"], out)
	assert.Equal(t, "confidential,first-party", types["conf1p"], out)
}
