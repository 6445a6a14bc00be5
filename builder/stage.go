package builder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hotrun-dev/hotrun/gosrc"
	"github.com/hotrun-dev/hotrun/internal/paths"
)

// A logic package as staging sees it: a directory of the logic tree with
// Go files, and the files of directories below it that have none (what
// //go:embed may pull in).
type logicPkg struct {
	rel   string   // slash-separated, relative to the logic root; "." for main
	files []string // slash-separated, relative to the logic root
	src   Sources  // the content of files, as the scan read it
	deps  []string // rel of the logic packages it imports
	own   string   // hash of its files
	sum   string   // hash of its files and, transitively, its logic imports

	// What the fast path needs to know (see fast.go).
	ext   []string // imports from outside the logic tree
	cgo   bool     // a file imports "C"
	embed bool     // a file has a //go:embed directive
	nonGo bool     // the directory holds C, assembly or other non-Go sources
}

// stagedPath matches the part of a path that staging adds to the user's
// logic tree: .hotrun/stage/b7/logic/x.go is logic/x.go to the user.
var stagedPath = regexp.MustCompile(`\.hotrun/stage/(?:b\d+|static)/`)

// Unstage names the user's files and import paths, not hotrun's staged
// copies, in s: compiler output, a panic's stack, a load error.
func Unstage(s string) string { return stagedPath.ReplaceAllString(s, "") }

// stageIncremental stages the logic tree for one plugin build into stage
// (a directory name under .hotrun/stage) and returns its packages and the
// stage each of them is staged in ("." is the main package, always in
// stage). Each file is read once: what is staged and what the packages'
// hashes say is one content.
//
// The main package always gets a new path: it is the plugin path, which
// Go loads once. A sub-package gets one only when it, or a logic package it
// imports, changed: one unchanged since an earlier build keeps that
// build's staged path, which the engine has loaded already with the same
// contents; Go accepts that, as it does for any shared dependency, and it
// is not compiled again. An edited one must have a new path: Go refuses a
// second, different copy of a package it loaded.
func (b *Builder) stageIncremental(stage string) ([]*logicPkg, map[string]string, error) {
	pkgs, err := b.scanLogic()
	if err != nil {
		return nil, nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.staged == nil {
		b.staged = make(map[string]string)
	}
	where := make(map[string]string) // rel → the stage it is staged in
	for _, p := range pkgs {
		if p.rel != "." {
			if s, ok := b.staged[p.sum]; ok && b.stagedExists(s, p.rel) {
				where[p.rel] = s
				continue
			}
		}
		where[p.rel] = stage
	}
	if err := b.copyPkgs(pkgs, stage, where); err != nil {
		return nil, nil, err
	}
	// Only now, with every file in place, may later builds reuse them.
	for _, p := range pkgs {
		if where[p.rel] == stage && p.rel != "." {
			b.staged[p.sum] = stage
		}
	}
	return pkgs, where, nil
}

// stagedImport is the import path of logic package rel staged in stage.
func (b *Builder) stagedImport(rel, stage string) string {
	ip := b.modPath + "/" + path.Join(OutDir, "stage", stage, b.logicRel)
	if rel != "." {
		ip += "/" + rel
	}
	return ip
}

// copyPkgs copies the packages that where places in stage into it, their
// imports of logic packages renamed to where each is staged.
func (b *Builder) copyPkgs(pkgs []*logicPkg, stage string, where map[string]string) error {
	rewrite := func(ip string) (string, bool) {
		var rel string
		switch {
		case ip == b.logicPath:
			rel = "."
		case strings.HasPrefix(ip, b.logicPath+"/"):
			rel = ip[len(b.logicPath)+1:]
		default:
			return "", false
		}
		s, ok := where[rel]
		if !ok {
			return "", false // no such package: the compiler will say so
		}
		return b.stagedImport(rel, s), true
	}
	root := filepath.Join(b.out, "stage", stage, filepath.FromSlash(b.logicRel))
	if err := os.MkdirAll(root, 0o755); err != nil {
		return fmt.Errorf("builder: stage: %w", err)
	}
	for _, p := range pkgs {
		if where[p.rel] != stage {
			continue
		}
		for _, f := range p.files {
			src := p.src[f].Data
			if strings.HasSuffix(f, ".go") {
				src = rewriteImportsFunc(src, rewrite)
			}
			dst := filepath.Join(root, filepath.FromSlash(f))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return fmt.Errorf("builder: stage: %w", err)
			}
			if err := os.WriteFile(dst, src, 0o644); err != nil {
				return fmt.Errorf("builder: stage: %w", err)
			}
		}
	}
	return nil
}

// stagedExists reports whether a staged copy is still on disk.
func (b *Builder) stagedExists(stage, rel string) bool {
	_, err := os.Stat(filepath.Join(b.out, "stage", stage, filepath.FromSlash(b.logicRel), filepath.FromSlash(rel)))
	return err == nil
}

// scanLogic reads the logic tree, by gosrc's rule of what a package tree
// holds: its packages, their files and imports, and their hashes. It reads
// each file once and keeps its content, which staging copies.
func (b *Builder) scanLogic() ([]*logicPkg, error) {
	byRel := make(map[string]*logicPkg)
	var dirs []string                 // every directory, parents first
	dirFiles := map[string][]string{} // dir rel → its files' rel
	hasGo := map[string]bool{}
	err := filepath.WalkDir(b.logicDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(b.logicDir, p)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if d.IsDir() {
			if p != b.logicDir && gosrc.SkipDir(name) != "" {
				return filepath.SkipDir
			}
			dirs = append(dirs, rel)
			return nil
		}
		kind, _ := gosrc.Classify(name)
		if !d.Type().IsRegular() || !kind.Built() && kind != gosrc.Data {
			return nil
		}
		dir := path.Dir(rel)
		dirFiles[dir] = append(dirFiles[dir], rel)
		if kind == gosrc.Source && strings.HasSuffix(name, ".go") {
			hasGo[dir] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("builder: scan logic: %w", err)
	}
	// A directory without Go files belongs to the package above it.
	owner := func(dir string) string {
		for dir != "." && !hasGo[dir] {
			dir = path.Dir(dir)
		}
		return dir
	}
	for _, d := range dirs {
		o := owner(d)
		p := byRel[o]
		if p == nil {
			p = &logicPkg{rel: o}
			byRel[o] = p
		}
		p.files = append(p.files, dirFiles[d]...)
	}
	if byRel["."] == nil {
		byRel["."] = &logicPkg{rel: "."}
	}
	for _, p := range byRel {
		sort.Strings(p.files)
		p.src = make(Sources, len(p.files))
		h := sha256.New()
		deps := map[string]bool{}
		for _, f := range p.files {
			src, err := os.ReadFile(filepath.Join(b.logicDir, filepath.FromSlash(f)))
			if err != nil {
				return nil, fmt.Errorf("builder: scan logic: %w", err)
			}
			sum := gosrc.Sum(src)
			p.src[f] = Source{Digest: sum, Data: src}
			fmt.Fprintf(h, "%s\x00%x\x00", f, sum)
			// gosrc's Source, less .go: the C, assembly, SWIG and syso files
			// the go command compiles beside Go; the fast path leaves a
			// package holding any to the go command.
			if k, _ := gosrc.Classify(path.Base(f)); path.Dir(f) == p.rel && k == gosrc.Source && path.Ext(f) != ".go" {
				p.nonGo = true
			}
			if strings.HasSuffix(f, ".go") {
				if bytes.Contains(src, []byte("//go:embed")) {
					p.embed = true
				}
				ext := map[string]bool{}
				for _, ip := range imports(src) {
					switch {
					case strings.HasPrefix(ip, b.logicPath+"/"):
						deps[ip[len(b.logicPath)+1:]] = true
					case ip == "C":
						p.cgo = true
					case !ext[ip]:
						ext[ip] = true
						p.ext = append(p.ext, ip)
					}
				}
			}
		}
		p.own = hex.EncodeToString(h.Sum(nil))
		for d := range deps {
			p.deps = append(p.deps, d)
		}
		sort.Strings(p.deps)
	}
	var sum func(p *logicPkg, seen map[string]bool) string
	sum = func(p *logicPkg, seen map[string]bool) string {
		if p.sum != "" {
			return p.sum
		}
		if seen[p.rel] {
			return p.own // an import cycle: the compiler will refuse it
		}
		seen[p.rel] = true
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%s\x00", p.rel, p.own)
		for _, d := range p.deps {
			if q := byRel[d]; q != nil {
				fmt.Fprintf(h, "%s\x00%s\x00", d, sum(q, seen))
			} else {
				fmt.Fprintf(h, "%s\x00missing\x00", d)
			}
		}
		p.sum = hex.EncodeToString(h.Sum(nil))
		return p.sum
	}
	out := make([]*logicPkg, 0, len(byRel))
	for _, p := range byRel {
		sum(p, map[string]bool{})
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out, nil
}

// imports returns the import paths of a Go file, or none if it doesn't
// parse.
func imports(src []byte) []string {
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.ImportsOnly)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range f.Imports {
		if p, err := strconv.Unquote(s.Path.Value); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Source is one file of the logic tree as a build read and staged it.
type Source struct {
	Digest gosrc.Digest
	Data   []byte
}

// Sources is the logic tree as a build read and staged it: every file, by
// its slash-separated path under the logic directory.
type Sources map[string]Source

// Digests returns the digest of each file.
func (s Sources) Digests() map[string]gosrc.Digest {
	out := make(map[string]gosrc.Digest, len(s))
	for f, src := range s {
		out[f] = src.Digest
	}
	return out
}

// sourcesOf gathers the files of pkgs.
func sourcesOf(pkgs []*logicPkg) Sources {
	out := Sources{}
	for _, p := range pkgs {
		maps.Copy(out, p.src)
	}
	return out
}

// LogicRel returns the slash-separated path of file (absolute) under the
// logic directory, when a build stages it: it lies in the logic tree, and
// gosrc's rule keeps it.
func (b *Builder) LogicRel(file string) (string, bool) {
	rel, ok := paths.Within(b.logicDir, file)
	if !ok {
		return "", false
	}
	rel = filepath.ToSlash(rel)
	return rel, gosrc.InTree(rel)
}
