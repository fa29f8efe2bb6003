package browsertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestResultText(t *testing.T) {
	got, ok := resultText("<html><body><p>x</p><pre id=\"result\">a &amp; &lt;b&gt;\n&quot;c&quot; &#39;d&#39;</pre><pre id=\"result\">second</pre></body></html>")
	if want := "a & <b>\n\"c\" 'd'"; !ok || got != want {
		t.Fatalf("resultText = %q, %v; want %q, true", got, ok, want)
	}
	if got, ok := resultText("<html><body><pre id=\"other\">x</pre></body></html>"); ok {
		t.Fatalf("resultText without the element = %q, true; want false", got)
	}
}

// TestBrowserResult checks, in Chromium, that a page's scripts and timers
// run before the DOM is read and that their text comes back unescaped.
func TestBrowserResult(t *testing.T) {
	bin := Chromium(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><html><body><pre id="result">pending</pre>
<script>setTimeout(function () { document.getElementById('result').textContent = 'ran <&> "quoted"'; }, 500);</script>
</body></html>`)
	}))
	t.Cleanup(srv.Close)
	if got, want := Result(t, bin, srv.URL, Options{}), `ran <&> "quoted"`; got != want {
		t.Fatalf("Result = %q, want %q", got, want)
	}
}
