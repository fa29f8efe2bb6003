package docs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNamedBenchmarksExist fails for every benchmark a guide names that no
// _test.go file of the repository (nested modules included) defines: a
// BenchmarkX in the text, or an alternative of a -bench pattern's first
// element that matches no benchmark. A benchmark renamed or dropped would
// otherwise leave its reproduce command measuring nothing, silently.
func TestNamedBenchmarksExist(t *testing.T) {
	names := benchmarkNames(t, repoRoot)
	require.NotEmpty(t, names)
	mentioned := 0
	for _, file := range guides(t) {
		md, err := os.ReadFile(file)
		require.NoError(t, err)
		refs, missing := missingBenchmarks(string(md), names)
		mentioned += refs
		for _, m := range missing {
			t.Errorf("%s names the benchmark %q, which no _test.go file defines", file, m)
		}
	}
	require.NotZero(t, mentioned, "no benchmark named in the guides: the extraction is broken")
	t.Logf("%d benchmark references checked against %d benchmarks", mentioned, len(names))
}

var (
	benchFunc    = regexp.MustCompile(`(?m)^func (Benchmark\w*)\(\w+ \*testing\.B\)`)
	benchMention = regexp.MustCompile(`\bBenchmark[A-Z]\w*`)
	benchFlag    = regexp.MustCompile("-(?:test\\.)?bench[= ](?:'([^']*)'|\"([^\"]*)\"|([^\\s`'\"]+))")
)

// benchmarkNames returns the names of the benchmark functions of every
// _test.go file under root.
func benchmarkNames(t *testing.T, root string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range benchFunc.FindAllStringSubmatch(string(b), -1) {
			names = append(names, m[1])
		}
		return nil
	})
	require.NoError(t, err)
	return names
}

// missingBenchmarks returns how many benchmark references text holds and
// those that match none of names: each BenchmarkX must be one of them,
// and each top-level alternative of the first element of a -bench
// pattern (go test matches it against the benchmark function's name)
// must match one.
func missingBenchmarks(text string, names []string) (refs int, missing []string) {
	known := make(map[string]bool, len(names))
	for _, n := range names {
		known[n] = true
	}
	for _, m := range benchMention.FindAllString(text, -1) {
		refs++
		if !known[m] {
			missing = append(missing, m)
		}
	}
	for _, m := range benchFlag.FindAllStringSubmatch(text, -1) {
		pattern := m[1] + m[2] + m[3]
		for _, alt := range splitTop(splitTop(pattern, '/')[0], '|') {
			refs++
			re, err := regexp.Compile(alt)
			if err != nil {
				missing = append(missing, alt)
				continue
			}
			found := false
			for _, n := range names {
				if re.MatchString(n) {
					found = true
					break
				}
			}
			if !found {
				missing = append(missing, alt)
			}
		}
	}
	return refs, missing
}

// splitTop splits s at each sep outside parentheses and brackets.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// TestMissingBenchmarks checks the extraction itself, so that the test
// above cannot pass by finding nothing.
func TestMissingBenchmarks(t *testing.T) {
	names := []string{"BenchmarkValidate", "BenchmarkRefreshGrant", "BenchmarkParallelIssue"}
	text := "See `BenchmarkValidate` and BenchmarkGone.\n" +
		"go test -bench 'Validate|RefreshLongChain|Refresh(Grant|Chain)' .\n" +
		"go test -bench Parallel -cpu 1,2\n" +
		"/tmp/b.test -test.bench '^BenchmarkValidate$/lib=(a|b)$'\n" +
		"go test -bench=Missing/lib=x\n"
	refs, missing := missingBenchmarks(text, names)
	assert.Equal(t, 9, refs)
	assert.Equal(t, []string{"BenchmarkGone", "RefreshLongChain", "Missing"}, missing)
	assert.Equal(t, []string{"a", "(b|c)", "d"}, splitTop("a|(b|c)|d", '|'))
}
