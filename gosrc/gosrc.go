// Package gosrc is hotrun's one rule of which files in a Go module's tree
// a build reads, and the digest by which hotrun's parts name a file's
// content.
//
// The watcher asks it which saves can matter to a build, the builder which
// files a staged copy of the logic tree holds, and the runner diffs what the
// builder staged: so a file that starts a build is a file the build copies,
// and a version's diff shows the files it was built from.
//
// # Why a package of its own
//
// The rule is a fact about Go's file layout, not about watching or
// building: the watcher and the builder both need it and neither may import
// the other (the builder runs the go command; the watcher holds inotify,
// gitignore and globs). Like package event, it is a leaf they share; the
// runner, above both, reads it through them. It reads no file and holds no
// state.
//
// # What a tree holds
//
// [SkipDir] names the directories nothing in hotrun enters: vendor,
// node_modules and testdata, and names starting with . or _ (the go command
// ignores those, and hotrun keeps its own files in .hotrun). [Classify] sorts
// a file by its name:
//
//   - [Source]: .go files and the other files go build compiles into a
//     package (assembly, cgo sources and headers, .syso objects);
//   - [Module]: go.mod, go.sum, go.work and go.work.sum;
//   - [Data]: any other file, which a build reads only when a //go:embed
//     line names it;
//   - [Test], [Hidden] and [Temp]: _test.go files, names starting with . or
//     _ (go build leaves both out, though a //go:embed line may name them),
//     and editor temporary files (never content).
//
// [Kind.Built] says which kinds a build reads whatever the code says;
// [InTree] says which files a copy of a package tree holds: those, and Data,
// which //go:embed may pull in.
//
// # Limits
//
// Whether a //go:embed line names a Data, Test or Hidden file depends on the
// code, not the name: the watcher works it out from the //go:embed lines.
// A staged copy holds no Test or Hidden file, so a //go:embed line in the
// logic that names a file starting with . or _ (or uses all:) does not
// build under hotrun.
package gosrc

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path"
	"strings"
)

// A Digest names a file's content: the SHA-256 of its bytes. The watcher
// and the builder compute it alike, so the runner can tell whether a build
// read what the watcher saw. The zero Digest stands for no file.
type Digest [sha256.Size]byte

// Sum returns the digest of content b.
func Sum(b []byte) Digest { return sha256.Sum256(b) }

// SumReader returns the digest of what r holds, read to its end.
func SumReader(r io.Reader) (Digest, error) {
	h := sha256.New()
	var d Digest
	if _, err := io.Copy(h, r); err != nil {
		return d, err
	}
	h.Sum(d[:0])
	return d, nil
}

// String returns the digest's first 12 hex digits, for people.
func (d Digest) String() string { return hex.EncodeToString(d[:6]) }

// A Kind is what a file is to a build, by its name.
type Kind uint8

// Kinds of files.
const (
	Temp   Kind = iota // an editor's temporary or backup file: never content
	Test               // a _test.go file: go build leaves it out
	Hidden             // a name starting with . or _: go build leaves it out
	Source             // compiled into its package: .go, assembly, cgo, .syso
	Module             // go.mod, go.sum, go.work, go.work.sum
	Data               // anything else: read only when a //go:embed line names it
)

// Built reports whether a build reads a file of kind k whatever the code
// says: a change to it means a build.
func (k Kind) Built() bool { return k == Source || k == Module }

// Reasons a file or directory is left out, in Classify's and SkipDir's
// words: plain words for people reading -verbose output, not an API.
const (
	ReasonTemp     = "editor temp file"
	ReasonTest     = "test file"
	ReasonHidden   = "go build ignores names starting with . or _"
	ReasonNotBuild = "not a Go build file"
)

// Classify returns the kind of a file named name (a base name, no
// directory) and, for a kind that is not Built, why.
func Classify(name string) (Kind, string) {
	switch {
	case isEditorTemp(name):
		return Temp, ReasonTemp
	case strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_"):
		return Hidden, ReasonHidden
	case strings.HasSuffix(name, "_test.go"):
		return Test, ReasonTest
	case name == "go.mod" || name == "go.sum" || name == "go.work" || name == "go.work.sum":
		return Module, ""
	case strings.HasSuffix(name, ".go") || isOtherSource(path.Ext(name)):
		return Source, ""
	}
	return Data, ReasonNotBuild
}

// SkipDir returns why a directory named name is never entered, or "" when
// it may be.
func SkipDir(name string) string {
	switch name {
	case "vendor", "node_modules", "testdata":
		return name + " directory"
	}
	if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return "directory name starts with . or _"
	}
	return ""
}

// InTree reports whether the file at rel, a clean slash-separated path
// relative to the root of a package tree, belongs to a copy of the tree: no
// directory on the way is skipped, and the file is Built or Data.
func InTree(rel string) bool {
	elems := strings.Split(rel, "/")
	for _, d := range elems[:len(elems)-1] {
		if SkipDir(d) != "" { // "..", too, which starts with .
			return false
		}
	}
	k, _ := Classify(elems[len(elems)-1])
	return k.Built() || k == Data
}

// isOtherSource reports whether ext is the extension of a non-Go file that
// go build compiles or links into a package (see go help filetype).
func isOtherSource(ext string) bool {
	switch ext {
	case ".s", ".S", ".sx", ".syso",
		".c", ".cc", ".cpp", ".cxx", ".m",
		".h", ".hh", ".hpp", ".hxx",
		".f", ".F", ".for", ".f90",
		".swig", ".swigcxx":
		return true
	}
	return false
}

// isEditorTemp reports whether name is a file that an editor writes while
// saving or editing another file: never content the build reads.
func isEditorTemp(name string) bool {
	switch {
	case name == "":
		return false
	case strings.HasSuffix(name, "~"): // vim, JetBrains and Emacs backups
		return true
	case strings.HasPrefix(name, ".#"): // Emacs lock symlink
		return true
	case len(name) > 1 && name[0] == '#' && name[len(name)-1] == '#': // Emacs auto-save
		return true
	case strings.Contains(name, "___jb_tmp___"), strings.Contains(name, "___jb_old___"): // JetBrains
		return true
	case strings.Contains(name, ".goutputstream-"): // gedit and other GIO users
		return true
	case strings.HasSuffix(name, ".kate-swp"):
		return true
	case hasTmpMark(name): // f.go.tmp123 of atomic savers (VS Code extensions, renameio-style libraries)
		return true
	}
	if ext := path.Ext(name); len(ext) == 4 && strings.HasPrefix(ext, ".sw") { // vim swap: .swp, .swx, .swo, …
		return true
	}
	// vim probes whether it may create files in the directory with a file
	// named 4913 (then 5036, 5159, … while those exist).
	return strings.Trim(name, "0123456789") == ""
}

// hasTmpMark reports whether name holds ".tmp" followed by nothing or by a
// non-letter: f.go.tmp, f.go.tmp123, f.go.tmp-x; but not page.tmpl, which
// templates embed.
func hasTmpMark(name string) bool {
	for i := 0; ; {
		j := strings.Index(name[i:], ".tmp")
		if j < 0 {
			return false
		}
		end := i + j + len(".tmp")
		if end == len(name) {
			return true
		}
		if c := name[end]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return true
		}
		i = end
	}
}
