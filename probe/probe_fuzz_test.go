package probe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse reads any probe spec, as hotrun.toml or -probe may hold it. It
// must not panic, and what it takes is a request hotrun can send: a method
// in capitals, a path from "/", and the same request when read again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"GET /hello?name=test", "/health", `POST /items {"name":"x"}`, "  DELETE  /a b c ", "get /x", "GET", "", "/ /"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		r, err := Parse(spec)
		if err != nil {
			return
		}
		if r.Method == "" || strings.IndexFunc(r.Method, func(c rune) bool { return c < 'A' || c > 'Z' }) >= 0 {
			t.Fatalf("Parse(%q): method %q", spec, r.Method)
		}
		if !strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, " ") {
			t.Fatalf("Parse(%q): path %q", spec, r.Path)
		}
		if again, err := Parse(r.Spec); err != nil || again != r {
			t.Fatalf("Parse(%q) = %+v, and again %+v, %v", spec, r, again, err)
		}
	})
}

// FuzzBodyStart checks the start of an answer that a probe event keeps: at
// most max bytes and "…", cut on a character, and the answer's own start.
func FuzzBodyStart(f *testing.F) {
	f.Add([]byte("chat v2\r\n[a] hi1\r\n[a] hi2\r\n"), 8)
	f.Add([]byte("héllo, 世界"), 3)
	f.Add([]byte("ends in …"), 50)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		s := bodyStart(b, max)
		body := s
		if len(b) > max {
			var cut bool
			if body, cut = strings.CutSuffix(s, "…"); !cut || len(body) > max {
				t.Fatalf("bodyStart(%q, %d) = %q: want at most %d bytes and …", b, max, s, max)
			}
		} else if s != strings.TrimRight(string(b), " \r\n\t") {
			t.Fatalf("bodyStart(%q, %d) = %q: want all of it", b, max, s)
		}
		if !strings.HasPrefix(string(b), body) {
			t.Fatalf("bodyStart(%q, %d) = %q: not the answer's start", b, max, s)
		}
		if utf8.Valid(b) && !utf8.ValidString(s) {
			t.Fatalf("bodyStart(%q, %d) = %q: a character cut", b, max, s)
		}
	})
}
