package watcher

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	ignore "github.com/sabhiram/go-gitignore"

	"github.com/hotrun-dev/hotrun/gosrc"
)

// Reasons given in event.Ignored, beside gosrc's. They are plain words for
// people reading -verbose output, not an API.
const (
	reasonGitignore = "gitignored"
	reasonSymlink   = "symlink to a directory already watched"
	reasonOutside   = "outside the watched roots"
)

// hardIgnored reports whether rel (slash-separated, relative to a root) lies
// in a directory that nothing, not even an Include glob, can make count:
// version control and hotrun's own staging builds, which hotrun writes into
// the module during every build.
func hardIgnored(rel string) (string, bool) {
	for elem := range strings.SplitSeq(rel, "/") {
		if elem == ".git" || elem == ".hotrun" {
			return "inside " + elem, true
		}
	}
	return "", false
}

// rootOf returns the root that holds p and p relative to it, slash-separated.
func (w *Watcher) rootOf(p string) (root, rel string, ok bool) {
	for _, r := range w.roots {
		if p == r {
			return r, ".", true
		}
		if strings.HasPrefix(p, r) && p[len(r)] == filepath.Separator {
			return r, filepath.ToSlash(p[len(r)+1:]), true
		}
	}
	return "", "", false
}

// excludedBy returns the Exclude glob that matches rel or one of its parent
// directories, or "".
func (w *Watcher) excludedBy(rel string) string {
	for _, g := range w.cfg.Exclude {
		for p := rel; p != "." && p != "/" && p != ""; p = path.Dir(p) {
			if ok, _ := doublestar.Match(g, p); ok {
				return g
			}
		}
	}
	return ""
}

// included reports whether an Include glob matches the file rel.
func (w *Watcher) included(rel string) bool {
	for _, g := range w.cfg.Include {
		if ok, _ := doublestar.Match(g, rel); ok {
			return true
		}
	}
	return false
}

// mayContain reports whether a slash-separated pattern could match a path
// inside the directory dirRel: each element of the directory must match the
// pattern's element at the same depth, and ** matches any depth. It is
// deliberately generous: descending into one directory too many costs a
// watch, missing one costs a change.
func mayContain(pattern []string, dirRel []string) bool {
	for i, d := range dirRel {
		if i >= len(pattern) {
			return true // the pattern names an ancestor directory: everything below may count
		}
		if strings.Contains(pattern[i], "**") {
			return true
		}
		if ok, _ := path.Match(pattern[i], d); !ok {
			return false
		}
	}
	return true
}

// includeMayContain reports whether some Include glob may match a file in
// the directory rel.
func (w *Watcher) includeMayContain(rel string) bool {
	elems := strings.Split(rel, "/")
	for _, g := range w.cfg.Include {
		if mayContain(strings.Split(g, "/"), elems) {
			return true
		}
	}
	return false
}

// gitignored reports whether a .gitignore in dir or an ancestor (up to
// root) ignores p. isDir makes "dist/"-style patterns match the directory
// itself.
func (w *Watcher) gitignored(root, p string, isDir bool) bool {
	for d := filepath.Dir(p); ; d = filepath.Dir(d) {
		if gi := w.ignores[d]; gi != nil {
			sub, err := filepath.Rel(d, p)
			if err == nil {
				sub = filepath.ToSlash(sub)
				if isDir {
					sub += "/"
				}
				if gi.MatchesPath(sub) {
					return true
				}
			}
		}
		if d == root || len(d) < len(root) {
			return false
		}
	}
}

// skipDir returns whether the directory p (inside a root) is not walked or
// watched, and why.
func (w *Watcher) skipDir(p string) (bool, string) {
	root, rel, ok := w.rootOf(p)
	if !ok {
		return true, reasonOutside
	}
	if rel == "." {
		return false, ""
	}
	if r, ok := hardIgnored(rel); ok {
		return true, r
	}
	if g := w.excludedBy(rel); g != "" {
		return true, "excluded by glob " + g
	}
	if w.includeMayContain(rel) {
		return false, ""
	}
	if r := gosrc.SkipDir(filepath.Base(p)); r != "" {
		return true, r
	}
	if w.gitignored(root, p, true) && !w.embedMayContain(root, p) {
		return true, reasonGitignore
	}
	return false, ""
}

// counts returns whether the file p is one the build reads, and if not, why.
// It looks only at names and the rules, never at the file itself, so it
// answers for files that no longer exist too.
func (w *Watcher) counts(p string) (bool, string) {
	root, rel, ok := w.rootOf(p)
	if !ok || rel == "." {
		return false, reasonOutside
	}
	if r, ok := hardIgnored(rel); ok {
		return false, r
	}
	if g := w.excludedBy(rel); g != "" {
		return false, "excluded by glob " + g
	}
	name := filepath.Base(p)
	kind, why := gosrc.Classify(name)
	if kind == gosrc.Temp {
		return false, why
	}
	if w.included(rel) {
		return true, ""
	}
	// The walk never enters ignored directories, but a path can still name
	// one: an event racing a .gitignore edit, or a file in a directory that
	// a rescan is about to drop.
	dirs := strings.Split(rel, "/")
	for _, d := range dirs[:len(dirs)-1] {
		if r := gosrc.SkipDir(d); r != "" {
			return false, "in " + r
		}
	}
	embedded := w.embedded(root, p)
	if !embedded && w.gitignored(root, p, false) {
		return false, reasonGitignore
	}
	// A file that go build leaves out (a test, a name starting with . or
	// _) or does not compile (data) counts when a //go:embed line names it.
	if kind.Built() || embedded {
		return true, ""
	}
	return false, why
}

// loadGitignore reads dir/.gitignore into w.ignores, or forgets it when the
// file is gone.
func (w *Watcher) loadGitignore(dir string) {
	gi, err := ignore.CompileIgnoreFile(filepath.Join(dir, ".gitignore"))
	if err != nil {
		delete(w.ignores, dir)
		return
	}
	w.ignores[dir] = gi
}

// An embedPattern is one pattern of a //go:embed line, split into
// slash-separated elements.
type embedPattern struct {
	elems []string
	all   bool // the all: prefix: files starting with . or _ inside embedded directories count too
}

// loadEmbeds parses the //go:embed lines of the .go files of dir that go
// build compiles, all of them when names is nil or else only those named
// (the ones a burst touched: the others' lines are what they were), and
// reports whether the directory's patterns differ from the ones held before.
//
// It reads lines rather than parsing Go: a //go:embed directive must start
// its line, and a pattern found in a string literal or a comment block only
// makes one more file count, which is harmless.
func (w *Watcher) loadEmbeds(dir string, names []string) bool {
	if names == nil {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !e.IsDir() {
				names = append(names, e.Name())
			}
		}
		for f := range w.fileEmbeds {
			if filepath.Dir(f) == dir {
				delete(w.fileEmbeds, f)
			}
		}
	}
	for _, name := range names {
		p := filepath.Join(dir, name)
		delete(w.fileEmbeds, p)
		if k, _ := gosrc.Classify(name); k != gosrc.Source || !strings.HasSuffix(name, ".go") {
			continue
		}
		b, err := w.readSource(p)
		if err != nil || !bytes.Contains(b, []byte("//go:embed")) {
			continue
		}
		var pats []embedPattern
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if rest, ok := strings.CutPrefix(line, "//go:embed"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
				pats = append(pats, parseEmbedLine(rest)...)
			}
		}
		if len(pats) > 0 {
			w.fileEmbeds[p] = pats
		}
	}
	// The directory's patterns are its files', in the files' order.
	var files []string
	for f := range w.fileEmbeds {
		if filepath.Dir(f) == dir {
			files = append(files, f)
		}
	}
	slices.Sort(files)
	var pats []embedPattern
	for _, f := range files {
		pats = append(pats, w.fileEmbeds[f]...)
	}
	old := w.embeds[dir]
	if len(pats) == 0 {
		delete(w.embeds, dir)
	} else {
		w.embeds[dir] = pats
	}
	return !slices.EqualFunc(old, pats, func(a, b embedPattern) bool {
		return a.all == b.all && slices.Equal(a.elems, b.elems)
	})
}

// parseEmbedLine splits the patterns of one //go:embed line; patterns may be
// Go string literals (double-quoted or back-quoted) to hold spaces.
func parseEmbedLine(s string) []embedPattern {
	var out []embedPattern
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out
		}
		var pat string
		switch s[0] {
		case '"', '`':
			end := 1
			for end < len(s) && s[end] != s[0] {
				if s[0] == '"' && s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return out // unterminated literal: go build will say so
			}
			p, err := strconv.Unquote(s[:end+1])
			if err != nil {
				return out
			}
			pat, s = p, s[end+1:]
		default:
			i := strings.IndexAny(s, " \t")
			if i < 0 {
				i = len(s)
			}
			pat, s = s[:i], s[i:]
		}
		p := embedPattern{}
		if rest, ok := strings.CutPrefix(pat, "all:"); ok {
			p.all, pat = true, rest
		}
		pat = path.Clean(pat)
		if pat != "." && !strings.HasPrefix(pat, "../") {
			p.elems = strings.Split(pat, "/")
			out = append(out, p)
		}
	}
}

// embedded reports whether a //go:embed pattern of p's directory or of an
// ancestor directory names p, directly or through a directory it names.
func (w *Watcher) embedded(root, p string) bool {
	for d := filepath.Dir(p); len(d) >= len(root); d = filepath.Dir(d) {
		if pats := w.embeds[d]; pats != nil {
			if sub, err := filepath.Rel(d, p); err == nil {
				elems := strings.Split(filepath.ToSlash(sub), "/")
				for _, pat := range pats {
					if embedMatch(pat, elems) {
						return true
					}
				}
			}
		}
		if d == root {
			break
		}
	}
	return false
}

// embedMatch follows the rules of package embed: a pattern matches a file
// directly, or matches a directory, which embeds every file below it except
// those whose names start with . or _ (unless the pattern has all:).
func embedMatch(pat embedPattern, elems []string) bool {
	if len(pat.elems) > len(elems) {
		return false
	}
	for i, pe := range pat.elems {
		if ok, _ := path.Match(pe, elems[i]); !ok {
			return false
		}
	}
	if pat.all {
		return true
	}
	for _, e := range elems[len(pat.elems):] {
		if strings.HasPrefix(e, ".") || strings.HasPrefix(e, "_") {
			return false
		}
	}
	return true
}

// embedMayContain reports whether an embed pattern may name files inside
// the directory p, so that a gitignored dist/ that the code embeds is still
// watched.
func (w *Watcher) embedMayContain(root, p string) bool {
	for d := filepath.Dir(p); len(d) >= len(root); d = filepath.Dir(d) {
		if pats := w.embeds[d]; pats != nil {
			if sub, err := filepath.Rel(d, p); err == nil {
				elems := strings.Split(filepath.ToSlash(sub), "/")
				for _, pat := range pats {
					if mayContain(pat.elems, elems) {
						return true
					}
				}
			}
		}
		if d == root {
			break
		}
	}
	return false
}
