// Package docs_test keeps the guides honest: every ```go block in docs/*.md
// and in the repository's README.md must appear, verbatim, in a .go file of
// the repository (an Example function, an example program, a test), where
// the compiler and the tests check it. A block that drifts from the code it
// was copied from fails this test.
package docs_test

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoRoot is the repository's root, seen from this package's directory.
const repoRoot = ".."

// block is one fenced code block of a Markdown file.
type block struct {
	file string
	line int // line of the opening fence, 1-based
	lang string
	text string
}

// codeBlocks returns the fenced code blocks of Markdown text. Fences are
// ``` or ~~~ (three or more), possibly indented by up to three spaces; the
// info string's first word is the language.
func codeBlocks(file, md string) []block {
	var (
		out   []block
		cur   *block
		fence string
		body  []string
	)
	sc := bufio.NewScanner(strings.NewReader(md))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<22)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if cur == nil {
			if indent > 3 {
				continue
			}
			f := openingFence(trimmed)
			if f == "" {
				continue
			}
			info := strings.Fields(trimmed[len(f):])
			lang := ""
			if len(info) > 0 {
				lang = strings.ToLower(info[0])
			}
			cur, fence, body = &block{file: file, line: n, lang: lang}, f, nil
			continue
		}
		if indent <= 3 && strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]+" \t") == "" {
			cur.text = strings.Join(body, "\n")
			out = append(out, *cur)
			cur = nil
			continue
		}
		body = append(body, line)
	}
	return out // an unclosed block runs to the end of the document and is dropped
}

// openingFence returns the fence that opens a code block on line (already
// stripped of its indentation), or "".
func openingFence(line string) string {
	for _, c := range []string{"`", "~"} {
		n := len(line) - len(strings.TrimLeft(line, c))
		if n >= 3 {
			if c == "`" && strings.Contains(line[n:], "`") {
				return "" // a backtick in the info string: inline code, not a fence
			}
			return line[:n]
		}
	}
	return ""
}

// normalize makes text comparable regardless of indentation: each line
// loses its leading and trailing white space, and the whole loses leading
// and trailing blank lines.
func normalize(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// contains reports whether the normalized block occurs in the normalized
// source on whole lines.
func contains(normSource, normBlock string) bool {
	return strings.Contains("\n"+normSource+"\n", "\n"+normBlock+"\n")
}

// goSources returns every .go file under root that the go tool builds,
// normalized, by path.
func goSources(t *testing.T, root string) map[string]string {
	t.Helper()
	out := make(map[string]string)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// What the go tool never builds: testdata and directories
			// whose name begins with "." or "_" (.git, a scratch .tmp/).
			name := d.Name()
			if path != root && (name == "testdata" || name == "node_modules" ||
				strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[path] = normalize(string(b))
		return nil
	})
	require.NoError(t, err)
	return out
}

// guides returns the Markdown files whose Go blocks must compile.
func guides(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.md")
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(repoRoot, "README.md")); err == nil {
		files = append(files, filepath.Join(repoRoot, "README.md"))
	}
	return files
}

// TestGoBlocksAreCompiledCode fails for every ```go block of the guides
// that does not appear verbatim in a .go file of the repository.
func TestGoBlocksAreCompiledCode(t *testing.T) {
	sources := goSources(t, repoRoot)
	require.NotEmpty(t, sources)
	files := guides(t)
	require.NotEmpty(t, files, "no guides found: run the test from the docs directory")

	checked := 0
	for _, file := range files {
		md, err := os.ReadFile(file)
		require.NoError(t, err)
		for _, b := range codeBlocks(file, string(md)) {
			if b.lang != "go" {
				continue
			}
			checked++
			norm := normalize(b.text)
			if norm == "" {
				t.Errorf("%s:%d: empty ```go block", b.file, b.line)
				continue
			}
			found := false
			for _, src := range sources {
				if contains(src, norm) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s:%d: this ```go block is not in any .go file of the repository; "+
					"keep it in an Example function or an example program and copy it from there:\n%s",
					b.file, b.line, firstLines(b.text, 6))
			}
		}
	}
	t.Logf("%d Go blocks checked in %d files", checked, len(files))
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "\t…")
	}
	return "\t" + strings.Join(lines, "\n\t")
}

// TestMatcher checks the extraction and the comparison themselves, so that
// the test above cannot pass by finding nothing.
func TestMatcher(t *testing.T) {
	md := "# Title\n\n```go\n\tp, err := provider.New(cfg)\n```\n\n" +
		"```sh\ngo run ./examples/quickstart\n```\n\n" +
		"Inline ```go not a fence``` here.\n\n" +
		"  ~~~~ Go extra\nx := 1\n~~~\nstill inside\n~~~~\n" +
		"```go\nunclosed\n"
	blocks := codeBlocks("t.md", md)
	require.Len(t, blocks, 3)
	assert.Equal(t, block{file: "t.md", line: 3, lang: "go", text: "\tp, err := provider.New(cfg)"}, blocks[0])
	assert.Equal(t, "sh", blocks[1].lang)
	assert.Equal(t, "go", blocks[2].lang)
	assert.Equal(t, "x := 1\n~~~\nstill inside", blocks[2].text, "a shorter fence does not close a longer one")

	src := normalize("package x\n\nfunc f() {\n\t\tp, err := provider.New(cfg)\n\t_ = p\n}\n")
	assert.True(t, contains(src, normalize("  p, err := provider.New(cfg)  ")), "indentation does not matter")
	assert.True(t, contains(src, normalize("\n\np, err := provider.New(cfg)\n_ = p\n\n")), "surrounding blank lines do not matter")
	assert.False(t, contains(src, normalize("p, err := provider.New(config)")), "a changed line is not found")
	assert.False(t, contains(src, normalize("err := provider.New(cfg)")), "a block must match whole lines")
	assert.False(t, contains(src, normalize("p, err := provider.New(cfg)\n\n_ = p")), "line breaks matter")
}

// TestGoSourcesAreCompiledOnes: a block found only in a file the go tool
// never builds (under testdata, or a directory whose name begins with "_"
// or ".", such as the ignored .tmp/) is not checked by the compiler, so
// such files must not count.
func TestGoSourcesAreCompiledOnes(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"pkg/a.go", "pkg/testdata/b.go", "_old/c.go", ".tmp/d.go", "pkg/.scratch/e.go"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, p), []byte("package x\n"), 0o644))
	}
	var got []string
	for p := range goSources(t, root) {
		rel, err := filepath.Rel(root, p)
		require.NoError(t, err)
		got = append(got, filepath.ToSlash(rel))
	}
	assert.Equal(t, []string{"pkg/a.go"}, got)
}
