// Package doccurl reads the curl commands of a guide's ```sh blocks, as a
// reader would paste them, and turns each into an *http.Request for a test
// server, so that the tests of an example program run the guide's own
// commands and a command that drifts from the program fails them.
//
// It understands what the guides write: -s, -i, -si, -u user:pass,
// -d name=value, -H 'Name: value', one http:// URL, backslash line
// continuations, single and double quotes, $NAME in double quotes or bare
// (refused between single quotes, where the shell leaves it as is),
// a trailing "| head -1", and <placeholder>, oat_… or ort_… for a value
// the reader pastes from an earlier answer (see [Command.Request]).
package doccurl

import (
	"bufio"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Command is one curl command of a guide.
type Command struct {
	Line int      // line of the command in the guide, 1-based
	Args []string // the words after "curl", quotes removed, $NAME not yet expanded
	// Comments are the "# ..." lines right after the command, without
	// the "# ": what the guide says the command prints.
	Comments []string
	// HeadOne reports a trailing "| head -1": only the first line of the
	// output is shown.
	HeadOne bool
}

// Commands returns the curl commands of the ```sh blocks of a Markdown
// guide, in order.
func Commands(md string) ([]Command, error) {
	var (
		out     []Command
		inSh    bool
		pending string // a command continued with a backslash
		start   int
		last    *Command // the command the next comment lines belong to
	)
	sc := bufio.NewScanner(strings.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			inSh = !inSh && strings.TrimSpace(strings.TrimPrefix(trimmed, "```")) == "sh"
			pending, last = "", nil
			continue
		}
		if !inSh {
			continue
		}
		if pending == "" && strings.HasPrefix(trimmed, "#") {
			if last != nil {
				last.Comments = append(last.Comments, strings.TrimSpace(strings.TrimPrefix(trimmed, "#")))
			}
			continue
		}
		if pending == "" {
			start = n
		}
		if strings.HasSuffix(trimmed, `\`) {
			pending += strings.TrimSuffix(trimmed, `\`) + " "
			continue
		}
		full := pending + trimmed
		pending, last = "", nil
		if !strings.HasPrefix(full, "curl ") {
			continue
		}
		cmd := Command{Line: start}
		if i := strings.Index(full, "|"); i >= 0 {
			pipe := strings.Join(strings.Fields(full[i+1:]), " ")
			if pipe != "head -1" {
				return nil, fmt.Errorf("line %d: unknown pipe %q", start, pipe)
			}
			cmd.HeadOne = true
			full = full[:i]
		}
		words, err := split(strings.TrimPrefix(full, "curl "))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start, err)
		}
		cmd.Args = words
		out = append(out, cmd)
		last = &out[len(out)-1]
	}
	return out, sc.Err()
}

// split splits a shell command line into words, removing quotes.
func split(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // a word has started
		quote rune
	)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else if quote == '\'' && r == '$' {
				// The shell would pass it as is: the guide's command
				// would not do for a reader what the test does.
				return nil, fmt.Errorf("$ between single quotes, which the shell does not expand, in %q", s)
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c in %q", quote, s)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// Request builds the request of a command for the server at base (which
// replaces the guide's scheme and host). vars expands $NAME and fills
// placeholders: "<access_token>" and "oat_…" both look up "access_token",
// "<refresh_token>" and "ort_…" "refresh_token". include reports -i.
func (c Command) Request(base string, vars map[string]string) (req *http.Request, include bool, err error) {
	expand := func(w string) (string, error) {
		var missing []string
		w = expandVars(w, func(name string) string {
			v, ok := vars[name]
			if !ok {
				missing = append(missing, name)
			}
			return v
		})
		if len(missing) > 0 {
			return "", fmt.Errorf("line %d: nothing for %v", c.Line, missing)
		}
		return w, nil
	}
	var (
		form     = url.Values{}
		hasForm  bool
		header   = http.Header{}
		user     string
		hasUser  bool
		target   string
		argsLeft = c.Args
	)
	next := func(flag string) (string, error) {
		if len(argsLeft) == 0 {
			return "", fmt.Errorf("line %d: %s needs a value", c.Line, flag)
		}
		v := argsLeft[0]
		argsLeft = argsLeft[1:]
		return expand(v)
	}
	for len(argsLeft) > 0 {
		a := argsLeft[0]
		argsLeft = argsLeft[1:]
		switch a {
		case "-s":
		case "-i", "-si", "-is":
			include = true
		case "-u":
			v, err := next(a)
			if err != nil {
				return nil, false, err
			}
			user, hasUser = v, true
		case "-d":
			v, err := next(a)
			if err != nil {
				return nil, false, err
			}
			name, value, ok := strings.Cut(v, "=")
			if !ok {
				return nil, false, fmt.Errorf("line %d: -d %q is not name=value", c.Line, v)
			}
			form.Add(name, value)
			hasForm = true
		case "-H":
			v, err := next(a)
			if err != nil {
				return nil, false, err
			}
			name, value, ok := strings.Cut(v, ":")
			if !ok {
				return nil, false, fmt.Errorf("line %d: -H %q is not a header", c.Line, v)
			}
			header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		default:
			if strings.HasPrefix(a, "-") || target != "" {
				return nil, false, fmt.Errorf("line %d: unknown argument %q", c.Line, a)
			}
			v, err := expand(a)
			if err != nil {
				return nil, false, err
			}
			u, err := url.Parse(v)
			if err != nil || u.Scheme != "http" || u.Host == "" {
				return nil, false, fmt.Errorf("line %d: %q is not an http URL", c.Line, v)
			}
			target = base + u.RequestURI()
		}
	}
	if target == "" {
		return nil, false, fmt.Errorf("line %d: no URL", c.Line)
	}
	if hasForm {
		req, err = http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		req, err = http.NewRequest(http.MethodGet, target, nil)
	}
	if err != nil {
		return nil, false, err
	}
	for name, values := range header {
		req.Header[name] = values
	}
	if hasUser {
		id, secret, _ := strings.Cut(user, ":")
		req.SetBasicAuth(id, secret)
	}
	return req, include, nil
}

// expandVars replaces $NAME, <name> and the guides' elided tokens (oat_…,
// ort_…) in w with what value returns for their names.
func expandVars(w string, value func(string) string) string {
	var b strings.Builder
	for i := 0; i < len(w); {
		switch {
		case w[i] == '$':
			j := i + 1
			for j < len(w) && (w[j] == '_' || 'A' <= w[j] && w[j] <= 'Z' || 'a' <= w[j] && w[j] <= 'z' || '0' <= w[j] && w[j] <= '9') {
				j++
			}
			b.WriteString(value(w[i+1 : j]))
			i = j
		case w[i] == '<':
			j := strings.IndexByte(w[i:], '>')
			if j < 0 {
				b.WriteString(w[i:])
				return b.String()
			}
			b.WriteString(value(w[i+1 : i+j]))
			i += j + 1
		case strings.HasPrefix(w[i:], "oat_…"):
			b.WriteString(value("access_token"))
			i += len("oat_…")
		case strings.HasPrefix(w[i:], "ort_…"):
			b.WriteString(value("refresh_token"))
			i += len("ort_…")
		default:
			b.WriteByte(w[i])
			i++
		}
	}
	return b.String()
}
