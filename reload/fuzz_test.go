package reload

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzInject: whatever page the engine answers, the script goes in once,
// before the last </body> when there is one, and nothing of the page is
// lost or moved.
func FuzzInject(f *testing.F) {
	for _, s := range []string{"", "<html><body>x</body></html>", "</BODY></body>", "no tags", "</bod", "<body>\x00\xff</Body >"} {
		f.Add([]byte(s))
	}
	t := tag("s.p1v1")
	f.Fuzz(func(tt *testing.T, page []byte) {
		out := inject(page, t)
		i := bytes.Index(out, []byte(t))
		if i < 0 {
			tt.Fatalf("no script in %q", out)
		}
		if back := append(bytes.Clone(out[:i]), out[i+len(t):]...); !bytes.Equal(back, page) {
			tt.Fatalf("the page changed: %q → %q", page, out)
		}
		if j := lastIndexFold(page, []byte("</body")); j >= 0 && i != j {
			tt.Fatalf("script at %d, last </body at %d", i, j)
		}
		if j := lastIndexFold(page, []byte("</body")); j < 0 && i != len(page) {
			tt.Fatalf("no </body, and the script is not at the end")
		}
	})
}

// FuzzWrapPage: a plain text answer shown as a page keeps its text, and
// none of it can open a tag.
func FuzzWrapPage(f *testing.F) {
	for _, s := range []string{"", "hello", "</pre><script>alert(1)</script>", "a & b"} {
		f.Add(s, "utf-8")
	}
	f.Fuzz(func(tt *testing.T, body, cs string) {
		out := string(wrapPage([]byte(body), cs, "<x-tag>"))
		inner := out[strings.Index(out, "<pre"):strings.LastIndex(out, "</pre>")]
		inner = inner[strings.Index(inner, ">")+1:]
		if strings.ContainsAny(inner, "<>") {
			tt.Fatalf("the text opens a tag: %q", inner)
		}
		if !strings.HasSuffix(out, "</pre><x-tag></body></html>") {
			tt.Fatalf("the page ends %q", out[max(0, len(out)-40):])
		}
	})
}
