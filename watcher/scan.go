package watcher

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hotrun-dev/hotrun/gosrc"
)

// errIsDir is returned by hashFile for a path that is now a directory.
var errIsDir = errors.New("watcher: is a directory")

// scan walks every root for the first time: it sets up the watches, reads
// .gitignore files and //go:embed lines, and hashes every counted file, so
// that the first save is compared against what was there at start.
func (w *Watcher) scan() error {
	w.reads = map[string]gosrc.Digest{}
	defer func() { w.reads = nil }()
	for _, root := range w.roots {
		w.walk(root, true, func(p string, fi fs.FileInfo) {
			if w.polling {
				w.primePoll(p, fi)
			}
			if ok, _ := w.counts(p); !ok {
				return
			}
			st, err := w.hashFile(p)
			if err != nil {
				return // gone or unreadable: a later event brings it back
			}
			w.files[p] = st
		})
		if _, ok := w.dirs[root]; !ok {
			_, err := os.ReadDir(root)
			return fmt.Errorf("watcher: read root: %w", err)
		}
	}
	return nil
}

// walk visits the directory dir and every directory below it that is not
// ignored, registering each (with an inotify watch unless polling) and
// reading its .gitignore and //go:embed lines before looking at its files,
// since both decide which files count. It calls visit for every file (not
// only counted ones: polling must also see .gitignore and newly embedded
// files). report publishes event.Ignored for skipped directories; polling
// walks pass false, or every walk would repeat them.
func (w *Watcher) walk(dir string, report bool, visit func(p string, fi fs.FileInfo)) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return // removed meanwhile
	}
	if other, ok := w.realDirs[real]; ok && other != dir {
		if _, live := w.dirs[other]; live {
			// A symlink to a directory already walked, perhaps to an
			// ancestor: following it would loop or watch it twice.
			if report {
				w.ignored(dir, reasonSymlink)
			}
			return
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			w.warn(fmt.Sprintf("watcher: read directory %s: %v", dir, err))
		}
		return
	}
	if w.visited != nil {
		w.visited[dir] = struct{}{}
	}
	if _, known := w.dirs[dir]; !known {
		w.dirs[dir] = real
		w.realDirs[real] = dir
		w.loadGitignore(dir)
		w.loadEmbeds(dir, nil)
	}
	// Watch before visiting files: a file created between ReadDir and the
	// watch is caught by the rescan in flush, one created after by its event.
	w.watch(dir)
	// Real directories first, symlinked ones after, so that a file reached
	// both ways is known by its real path, not the link's.
	var links []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if fi, err = os.Stat(p); err != nil {
				continue // dangling, such as Emacs's .#f.go lock
			}
			if fi.IsDir() {
				links = append(links, p)
				continue
			}
		}
		switch {
		case fi.IsDir():
			w.walkSub(p, report, visit)
		case fi.Mode().IsRegular():
			visit(p, fi)
		}
	}
	for _, p := range links {
		w.walkSub(p, report, visit)
	}
}

// walkSub walks the directory p found inside a walked directory, unless it
// is ignored.
func (w *Watcher) walkSub(p string, report bool, visit func(p string, fi fs.FileInfo)) {
	if skip, reason := w.skipDir(p); skip {
		if report {
			w.ignored(p, reason)
		}
		return
	}
	w.walk(p, report, visit)
}

// touch notes that something happened to p, from an inotify event or a
// difference seen by polling. It marks p dirty and reports true when p
// matters to the current burst; an ignored path is reported (Verbose) and
// does not extend the burst. quiet suppresses the report.
func (w *Watcher) touch(p string, quiet bool) bool {
	if _, ok := w.files[p]; ok {
		w.dirty[p] = struct{}{}
		return true
	}
	if _, ok := w.dirs[p]; ok {
		// A watched directory removed or renamed away, or a new one in its
		// place: flush sorts it out.
		w.dirty[p] = struct{}{}
		return true
	}
	fi, err := os.Stat(p)
	if err == nil && fi.IsDir() {
		if skip, reason := w.skipDir(p); skip {
			if !quiet {
				w.ignored(p, reason)
			}
			return false
		}
		// Created or renamed in. Watch it at once, and pick up the files
		// already inside: they may have been written between the mkdir and
		// the watch, and then sent no event.
		w.walk(p, !quiet, func(f string, _ fs.FileInfo) { w.touch(f, quiet) })
		w.dirty[p] = struct{}{}
		return true
	}
	if filepath.Base(p) == ".gitignore" {
		w.dirty[p] = struct{}{}
		return true
	}
	if ok, reason := w.counts(p); !ok {
		if !quiet {
			w.ignored(p, reason)
		}
		return false
	}
	if err != nil {
		// Gone already and never counted: a temporary created and removed
		// before we looked, or a rename's source.
		return false
	}
	w.dirty[p] = struct{}{}
	return true
}

// markAll marks every known file and directory dirty, after the kernel
// dropped events.
func (w *Watcher) markAll() {
	for p := range w.files {
		w.dirty[p] = struct{}{}
	}
	for p := range w.dirs {
		w.dirty[p] = struct{}{}
	}
}

// primePoll records the file p in the polling snapshot.
func (w *Watcher) primePoll(p string, fi fs.FileInfo) {
	if w.poll == nil {
		w.poll = map[string]statKey{}
	}
	w.poll[p] = keyOf(fi)
}

// keyOf returns what polling compares of a file.
func keyOf(fi fs.FileInfo) statKey {
	return statKey{mtime: fi.ModTime().UnixNano(), size: fi.Size(), ino: inode(fi)}
}

// pollOnce walks every root and touches each file that appeared, vanished
// or whose modification time, size or inode differs from the last walk. It
// reports whether anything was touched.
func (w *Watcher) pollOnce() bool {
	primed := w.poll != nil
	seen := make(map[string]statKey, len(w.poll))
	w.visited = map[string]struct{}{}
	for _, root := range w.roots {
		w.walk(root, false, func(p string, fi fs.FileInfo) { seen[p] = keyOf(fi) })
	}
	for d := range w.dirs {
		if _, ok := w.visited[d]; !ok {
			// Gone (or now ignored); its counted files show up below as
			// vanished.
			w.forgetDir(d)
		}
	}
	w.visited = nil
	touched := false
	for p, k := range seen {
		if old, ok := w.poll[p]; !ok || old != k {
			// Unprimed (just fell back from inotify): compare the content
			// of everything, quietly.
			touched = w.touch(p, !primed) || touched
		}
	}
	for p := range w.poll {
		if _, ok := seen[p]; !ok {
			touched = w.touch(p, false) || touched
		}
	}
	if !primed {
		for p := range w.files {
			if _, ok := seen[p]; !ok {
				touched = w.touch(p, true) || touched
			}
		}
	}
	w.poll = seen
	return touched
}

// forgetDir drops what the watcher holds about the directory d itself.
func (w *Watcher) forgetDir(d string) {
	if real, ok := w.dirs[d]; ok && w.realDirs[real] == d {
		delete(w.realDirs, real)
	}
	delete(w.dirs, d)
	delete(w.ignores, d)
	delete(w.embeds, d)
	for f := range w.fileEmbeds {
		if filepath.Dir(f) == d {
			delete(w.fileEmbeds, f)
		}
	}
}

// dropDir forgets the directory d and everything below it, after it was
// removed or renamed away, and adds every counted file in it to changed.
func (w *Watcher) dropDir(d string, changed map[string]struct{}) {
	prefix := d + string(filepath.Separator)
	for p := range w.dirs {
		if p == d || strings.HasPrefix(p, prefix) {
			w.removeWatch(p)
			w.forgetDir(p)
		}
	}
	for p := range w.files {
		if strings.HasPrefix(p, prefix) {
			delete(w.files, p)
			changed[p] = struct{}{}
		}
	}
}

// removeWatch removes the inotify watch on dir, if there is one. inotify
// drops the watch of a deleted directory itself; a renamed one is dropped
// here so that events under the old name stop.
func (w *Watcher) removeWatch(dir string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fsw != nil {
		_ = w.fsw.Remove(dir) // most often already gone with the directory
	}
}

// hashFile returns the digest of p's content. Within a scan or a flush, a
// file that loadEmbeds read already is not read again: a save costs one
// read of each file it touched.
func (w *Watcher) hashFile(p string) (fileState, error) {
	if d, ok := w.reads[p]; ok {
		return fileState{digest: d}, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return fileState{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fileState{}, err
	}
	if fi.IsDir() {
		return fileState{}, errIsDir
	}
	d, err := gosrc.SumReader(f)
	if err != nil {
		return fileState{}, err
	}
	return fileState{digest: d}, nil
}

// readSource reads the Go file p for its //go:embed lines and, within a
// scan or a flush, keeps its digest for hashFile.
func (w *Watcher) readSource(p string) ([]byte, error) {
	b, err := os.ReadFile(p)
	if err == nil && w.reads != nil {
		w.reads[p] = gosrc.Sum(b)
	}
	return b, err
}

// flush ends a burst: it compares every dirty path with what the watcher
// held before and returns the files that changed.
func (w *Watcher) flush() Change {
	dirty := w.dirty
	w.dirty = map[string]struct{}{}
	clear(w.reported)
	w.reads = map[string]gosrc.Digest{}
	defer func() { w.reads = nil }()
	changed := map[string]struct{}{}
	done := map[string]struct{}{}

	// First the files that decide what counts: a .gitignore, or the
	// //go:embed lines of a .go file. When they change, every file below
	// their directory is judged again.
	var rescan []string
	embedDirs := map[string][]string{} // directory → its .go files the burst touched
	for p := range dirty {
		dir := filepath.Dir(p)
		if _, ok := w.dirs[dir]; !ok {
			continue
		}
		switch {
		case filepath.Base(p) == ".gitignore":
			w.loadGitignore(dir)
			rescan = append(rescan, dir)
		case strings.HasSuffix(p, ".go"):
			embedDirs[dir] = append(embedDirs[dir], filepath.Base(p))
		}
	}
	for dir, names := range embedDirs {
		if w.loadEmbeds(dir, names) {
			rescan = append(rescan, dir)
		}
	}
	for _, dir := range rescan {
		w.rescan(dir, dirty, changed, done)
	}

	for _, p := range slices.Sorted(maps.Keys(dirty)) {
		if _, ok := done[p]; ok {
			continue
		}
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			if _, ok := w.dirs[p]; ok {
				w.dropDir(p, changed)
			}
			w.check(p, changed, done)
		case fi.IsDir():
			w.rescan(p, nil, changed, done)
		default:
			w.check(p, changed, done)
		}
	}
	c := newChange(slices.Sorted(maps.Keys(changed)))
	c.Digests = map[string]gosrc.Digest{}
	for p := range done {
		if st, ok := w.files[p]; ok {
			c.Digests[p] = st.digest
		}
	}
	return c
}

// rescan judges again every file below dir: the counted ones held before
// and those on disk now. Directories that vanished are dropped.
//
// With adoptUnless set (a rescan after a .gitignore or //go:embed edit), a
// file that starts to count only because the rules changed, and that is not
// in adoptUnless (the burst's dirty paths), is adopted quietly: its content
// did not change, and the edit that changed the rules is in the Change.
func (w *Watcher) rescan(dir string, adoptUnless, changed, done map[string]struct{}) {
	prefix := dir + string(filepath.Separator)
	for d := range w.dirs {
		if strings.HasPrefix(d, prefix) {
			if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
				w.dropDir(d, changed)
			}
		}
	}
	var candidates []string
	for p := range w.files {
		if strings.HasPrefix(p, prefix) {
			candidates = append(candidates, p)
		}
	}
	w.walk(dir, false, func(p string, _ fs.FileInfo) { candidates = append(candidates, p) })
	for _, p := range candidates {
		if _, had := w.files[p]; !had && adoptUnless != nil {
			if _, touched := adoptUnless[p]; !touched {
				w.check(p, map[string]struct{}{}, done)
				continue
			}
		}
		w.check(p, changed, done)
	}
	done[dir] = struct{}{}
}

// check compares the file p with what the watcher held, once per flush.
func (w *Watcher) check(p string, changed, done map[string]struct{}) {
	if _, ok := done[p]; ok {
		return
	}
	done[p] = struct{}{}
	old, had := w.files[p]
	if ok, _ := w.counts(p); !ok {
		// It left the rules (a new .gitignore line, say) but not the disk:
		// forget it quietly, since go build still reads what it read.
		delete(w.files, p)
		return
	}
	st, err := w.hashFile(p)
	if err != nil {
		if had {
			delete(w.files, p)
			changed[p] = struct{}{}
		}
		return
	}
	w.files[p] = st
	if !had || old != st {
		changed[p] = struct{}{}
	}
}
