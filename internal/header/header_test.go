package header

import "testing"

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":                `""`,
		"my realm":        `"my realm"`,
		`say "hi"`:        `"say \"hi\""`,
		`a\b`:             `"a\\b"`,
		"line\r\nbreak\t": `"linebreak"`,
		"del\x7f":         `"del"`,
		"é":               "\"é\"",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}
