package docs_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExportedNamesHaveTheirOwnDocComment: `go doc` is half of what a
// user reads, so every exported name of a library package (internal/,
// commands, examples and tests aside) has a doc comment that starts with
// its name, or with an article and its name, as gofmt's doc conventions
// ask. A comment that starts with another name is usually one that
// drifted onto the wrong declaration: `go doc` then shows a user the
// description of something else.
func TestExportedNamesHaveTheirOwnDocComment(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		switch d.Name() {
		case "internal", "examples", "bench", "docs", "cmd", "testdata", ".git":
			return filepath.SkipDir
		}
		fset := token.NewFileSet()
		names, err := filepath.Glob(filepath.Join(path, "*.go"))
		if err != nil {
			return err
		}
		pkgs := map[string][]*ast.File{}
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			if err != nil {
				return err
			}
			pkgs[f.Name.Name] = append(pkgs[f.Name.Name], f)
		}
		for name, files := range pkgs {
			if name == "main" {
				continue
			}
			p, err := doc.NewFromFiles(fset, files, path)
			if err != nil {
				return err
			}
			where := filepath.ToSlash(path)
			own := func(name, text string) {
				checked++
				first := strings.Fields(text + " ")
				switch {
				case len(first) == 0:
					assert.Fail(t, "no doc comment", "%s: %s has no doc comment", where, name)
				case first[0] == name || first[0] == "Deprecated:":
				case len(first) > 1 && (first[0] == "A" || first[0] == "An" || first[0] == "The") && first[1] == name:
				default:
					assert.Fail(t, "doc comment of another name", "%s: the doc comment of %s starts %q", where, name, firstLine(text))
				}
			}
			values := func(vs []*doc.Value) {
				for _, v := range vs {
					if len(v.Names) == 1 {
						own(v.Names[0], v.Doc)
					} else {
						checked++
						assert.NotEmpty(t, v.Doc, "%s: the group %v has no doc comment", where, v.Names)
					}
				}
			}
			values(p.Consts)
			values(p.Vars)
			for _, f := range p.Funcs {
				own(f.Name, f.Doc)
			}
			for _, ty := range p.Types {
				own(ty.Name, ty.Doc)
				values(ty.Consts)
				values(ty.Vars)
				for _, f := range append(ty.Funcs, ty.Methods...) {
					own(f.Name, f.Doc)
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, checked, 100, "the walk found the packages")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
