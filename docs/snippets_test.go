package docs_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyGuides are the guides a reader copies code from into a program of
// their own: taken together, their ```go blocks must declare every name
// they use, apart from the packages they import.
var copyGuides = []string{"../README.md", "getting-started.md", "user-database.md"}

// noImports is a types.Importer that imports nothing: a snippet's package
// names are checked by the compiler in the source the snippet comes from,
// not here.
type noImports struct{}

func (noImports) Import(path string) (*types.Package, error) {
	return nil, errors.New("not imported: " + path)
}

// wholePrograms are the guides whose Go blocks, one after the other, are a
// whole program: the first block holds the package clause and the imports.
var wholePrograms = map[string]bool{"getting-started.md": true}

// declGuides are the guides whose Go blocks mix declarations, which a
// reader copies whole, with statements shown in the context of a program
// of the reader's: their declaration blocks, taken together, must declare
// every name they use, apart from the packages they import; their
// statement blocks are not checked.
var declGuides = map[string]bool{"operations.md": true, "storage.md": true, "policies.md": true, "authorization-code.md": true, "scaling.md": true, "security.md": true}

// isDeclarations reports whether a Go block is top-level declarations
// (functions, types, variables), not statements.
func isDeclarations(text string) bool {
	_, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+text, 0)
	return err == nil
}

// undeclared type-checks the Go blocks of a guide as one file and returns
// the names they use without declaring, less, unless the guide is one of
// wholePrograms, those that are package names (a block has no import
// declarations).
func undeclared(t *testing.T, file string, md string) []string {
	t.Helper()
	var src strings.Builder
	if !wholePrograms[file] {
		src.WriteString("package snippets\n")
	}
	for _, b := range codeBlocks(file, md) {
		if b.lang == "go" && (!declGuides[file] || isDeclarations(b.text)) {
			src.WriteString(b.text + "\n")
		}
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src.String(), 0)
	require.NoError(t, err, "the Go blocks of %s, one after the other, do not parse as a file", file)
	var names []string
	cfg := types.Config{
		Importer: noImports{},
		Error: func(err error) {
			var te types.Error
			if errors.As(err, &te) && strings.HasPrefix(te.Msg, "undefined: ") {
				name := strings.TrimPrefix(te.Msg, "undefined: ")
				if wholePrograms[file] || !isPackageName(name) {
					names = append(names, name)
				}
			}
		},
	}
	_, _ = cfg.Check("snippets", fset, []*ast.File{f}, nil)
	return names
}

// isPackageName reports whether name is the name of a package the guides'
// code imports.
func isPackageName(name string) bool {
	switch name {
	case "base64", "context", "errors", "expvar", "fmt", "http", "log", "netip", "os", "slog", "sql", "strconv",
		"strings", "time", "authcheck", "bcrypt", "goredis", "memory",
		"pgx", "pgxpool", "policy", "postgres", "provider", "redis", "storage":
		return true
	}
	return false
}

// TestCopyGuidesDeclareWhatTheyUse: a reader who pastes a guide's blocks
// into a file, with the imports, gets code that compiles, not "undefined:
// user" for a type the guide never shows.
func TestCopyGuidesDeclareWhatTheyUse(t *testing.T) {
	files := slices.Clone(copyGuides)
	for file := range declGuides {
		files = append(files, file)
	}
	for _, file := range files {
		md, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Empty(t, undeclared(t, file, string(md)), "%s: names its Go blocks use and no block declares", file)
	}
}

// TestUndeclared checks the check itself.
func TestUndeclared(t *testing.T) {
	md := "```go\nfunc f() error { return errors.New(g()) }\n```\n\n```go\nfunc (u *Users) h() user { return user{} }\n```\n"
	assert.ElementsMatch(t, []string{"g", "Users", "user", "user"}, undeclared(t, "t.md", md))
	// In a guide of declGuides, a statement block is left out.
	declGuides["t.md"] = true
	defer delete(declGuides, "t.md")
	assert.ElementsMatch(t, []string{"g", "Users", "user", "user"}, undeclared(t, "t.md", md+"```go\nx := y()\n```\n"))
}
