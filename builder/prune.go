package builder

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// stageName matches the staging directories of plugin builds (not
// "static", restart mode's, which BuildStatic replaces each time).
var stageName = regexp.MustCompile(`^b\d+$`)

// Prune removes every plugin in BuildDir whose path is not in keep, and
// every staging directory under .hotrun/stage that none of the kept
// plugins' builds used: the later builds that reuse an unchanged logic
// package from a pruned stage stage it anew. It returns the bytes freed.
// Builds wait for Prune, and Prune for them: a build's stages never vanish
// under it.
//
// The supervisor calls it with the versions an engine has loaded or may
// roll back to; a plugin a running engine loaded can go from disk (the
// engine mapped it already), but it can then never be loaded again.
//
// asOf is when the caller chose keep: plugins and stages written after it
// stay. Prune runs off the supervisor's loop, and a build may start and
// finish between the choice and Prune taking the build lock; without asOf
// its new plugin, in no keep list yet, would go before it is loaded.
func (b *Builder) Prune(keep []string, asOf time.Time) (freed int64, err error) {
	b.buildMu.Lock()
	defer b.buildMu.Unlock()
	kept := map[string]bool{}
	for _, k := range keep {
		if abs, err := filepath.Abs(k); err == nil {
			kept[abs] = true
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	need := map[string]bool{}
	for so, stages := range b.uses {
		if kept[so] {
			for _, s := range stages {
				need[s] = true
			}
		}
	}
	var errs []error
	sos, _ := filepath.Glob(filepath.Join(b.BuildDir(), "*.so"))
	for _, so := range sos {
		if kept[so] || writtenAfter(so, asOf) {
			continue
		}
		n, err := removeAll(so)
		freed += n
		if err != nil {
			errs = append(errs, err)
			continue
		}
		delete(b.uses, so)
	}
	stageRoot := filepath.Join(b.out, "stage")
	ents, _ := os.ReadDir(stageRoot)
	for _, e := range ents {
		s := e.Name()
		if !e.IsDir() || !stageName.MatchString(s) || need[s] || writtenAfter(filepath.Join(stageRoot, s), asOf) {
			continue
		}
		n, err := removeAll(filepath.Join(stageRoot, s))
		freed += n
		if err != nil {
			errs = append(errs, err)
		}
		// Incremental staging must not point a later build at it.
		for sum, where := range b.staged {
			if where == s {
				delete(b.staged, sum)
			}
		}
	}
	if len(errs) > 0 {
		return freed, fmt.Errorf("builder: prune: %w", errs[0])
	}
	return freed, nil
}

// DiskUsage returns the bytes of every file under .hotrun: plugins,
// staging copies, compiled packages, engines.
func (b *Builder) DiskUsage() int64 {
	return du(b.out)
}

func du(root string) int64 {
	var n int64
	filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// writtenAfter reports whether p was modified after t.
func writtenAfter(p string, t time.Time) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.ModTime().After(t)
}

// removeAll removes p and returns the bytes it held.
func removeAll(p string) (int64, error) {
	n := du(p)
	if err := os.RemoveAll(p); err != nil {
		return n - du(p), err
	}
	return n, nil
}
