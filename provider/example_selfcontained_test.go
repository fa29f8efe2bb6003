package provider_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// godoc shows an example's body alone: one that calls a helper, or uses a
// type, variable or constant, declared elsewhere in the tests shows code
// a reader cannot run as shown. Every example uses only what it declares
// and the packages' exported API.
func TestExamplesAreSelfContained(t *testing.T) {
	names, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	declared := map[string]bool{} // the test package's own top-level names
	for _, name := range names {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name != "provider_test" {
			continue
		}
		files = append(files, f)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && !strings.HasPrefix(d.Name.Name, "Example") {
					declared[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						declared[s.Name.Name] = true
					case *ast.ValueSpec:
						for _, n := range s.Names {
							declared[n.Name] = true
						}
					}
				}
			}
		}
	}
	for _, f := range files {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Example") {
				continue
			}
			local := map[string]bool{} // what the example declares itself
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.AssignStmt:
					if n.Tok == token.DEFINE {
						for _, l := range n.Lhs {
							if id, ok := l.(*ast.Ident); ok {
								local[id.Name] = true
							}
						}
					}
				case *ast.RangeStmt:
					for _, e := range []ast.Expr{n.Key, n.Value} {
						if id, ok := e.(*ast.Ident); ok && n.Tok == token.DEFINE {
							local[id.Name] = true
						}
					}
				case *ast.ValueSpec:
					for _, id := range n.Names {
						local[id.Name] = true
					}
				case *ast.TypeSpec:
					local[n.Name.Name] = true
				case *ast.Field:
					for _, id := range n.Names {
						local[id.Name] = true
					}
				}
				return true
			})
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr: // pkg.Name or x.Field: not the test package's own
					ast.Inspect(n.X, func(m ast.Node) bool { return check(t, fset, fn, declared, local, m) })
					return false
				case *ast.KeyValueExpr: // a struct literal's field name
					ast.Inspect(n.Value, func(m ast.Node) bool { return check(t, fset, fn, declared, local, m) })
					return false
				}
				return check(t, fset, fn, declared, local, n)
			})
		}
	}
}

// check reports n when it names something the test package declares
// outside the example fn.
func check(t *testing.T, fset *token.FileSet, fn *ast.FuncDecl, declared, local map[string]bool, n ast.Node) bool {
	t.Helper()
	if id, ok := n.(*ast.Ident); ok && id.Name != "_" && declared[id.Name] && !local[id.Name] {
		t.Errorf("%s: %s uses %s, declared outside it: godoc shows the example without it", fset.Position(id.Pos()), fn.Name.Name, id.Name)
	}
	return true
}
