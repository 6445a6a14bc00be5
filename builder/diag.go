package builder

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/internal/paths"
)

// diagLine matches the go command's compiler and vet messages:
// "file.go:12:5: msg" or "file.go:12: msg".
var diagLine = regexp.MustCompile(`^(\S.*?\.go):(\d+)(?::(\d+))?: (.*)$`)

// parseDiagnostics turns go build output into diagnostics. Relative paths
// in out are relative to dir (where the go command ran); the diagnostics'
// paths are made relative to root when they lie inside it. Continuation
// lines (indented with a tab) are joined to the message before them.
func parseDiagnostics(out, dir, root string) []event.Diagnostic {
	var ds []event.Diagnostic
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "\t") && len(ds) > 0 {
			ds[len(ds)-1].Msg += "\n" + strings.TrimSpace(line)
			continue
		}
		m := diagLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		file := m[1]
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		if rel, ok := paths.Within(root, file); ok {
			file = rel
		}
		ln, _ := strconv.Atoi(m[2])
		col, _ := strconv.Atoi(m[3])
		ds = append(ds, event.Diagnostic{File: file, Line: ln, Col: col, Msg: m[4]})
	}
	for i := range ds {
		ds[i].Msg += hint(ds[i].Msg)
	}
	return ds
}

// hint returns, for a go command message that means a limit of Go plugins,
// a continuation line that says what to do and names the lab that shows
// the limit (`hotrun lab NAME`); "" for any other message.
func hint(msg string) string {
	if strings.HasSuffix(msg, "is a program, not an importable package") {
		return "\nthe logic can't import the engine's package main: share what both need through a package both import (hotrun lab main-var)"
	}
	return ""
}

// addSource fills each diagnostic's Source with its line of the user's
// file (paths relative to root), so that a headless log shows what the
// compiler means without opening an editor.
func addSource(ds []event.Diagnostic, root string) {
	files := map[string][]string{}
	for i, d := range ds {
		if d.File == "" || d.Line <= 0 {
			continue
		}
		p := d.File
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		lines, ok := files[p]
		if !ok {
			if b, err := os.ReadFile(p); err == nil {
				lines = strings.Split(string(b), "\n")
			}
			files[p] = lines
		}
		if d.Line <= len(lines) {
			ds[i].Source = strings.TrimRight(lines[d.Line-1], "\r")
		}
	}
}
