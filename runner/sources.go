package runner

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aymanbagabas/go-udiff"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
)

// sources keeps each version's logic tree as its build staged it, so that
// any two versions can be diffed, and the addresses the engine listens on. The loop
// writes it; the Runner's Diff and Addrs read it from other goroutines.
type sources struct {
	mu    sync.Mutex                // guards trees and addrs
	trees map[int]map[string]string // version → file (slash path under the logic tree) → content
	addrs []string
}

func newSources() *sources { return &sources{trees: make(map[int]map[string]string)} }

// maxSourceFile is the largest file kept for diffs; larger ones (data, not
// code) are noted by size.
const maxSourceFile = 256 << 10

// textTree is a build's staged logic tree as diffs show it: each file's
// content, or a note of its size when it is too large to show.
func textTree(src builder.Sources) map[string]string {
	tree := make(map[string]string, len(src))
	for f, s := range src {
		if len(s.Data) > maxSourceFile {
			tree[f] = fmt.Sprintf("(%d bytes, not shown)\n", len(s.Data))
			continue
		}
		tree[f] = string(s.Data)
	}
	return tree
}

// keep records version n's tree.
func (s *sources) keep(n int, tree map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trees[n] = tree
}

// forget drops the trees of versions that left the list.
func (s *sources) forget(keep func(int) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := range s.trees {
		if !keep(n) {
			delete(s.trees, n)
		}
	}
}

func (s *sources) setAddrs(a []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addrs = a
}

func (s *sources) addrList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.addrs)
}

// diff returns the unified diff from version from to version to, file by
// file; from 0 means the newest version before to that has a tree.
func (s *sources) diff(from, to int) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.trees[to]
	if !ok {
		return "", fmt.Errorf("runner: diff: no source kept for v%d", to)
	}
	if from == 0 {
		for n := range s.trees {
			if n < to && n > from {
				from = n
			}
		}
	}
	a := s.trees[from] // nil for the first version: every file is new
	if from != 0 && a == nil {
		return "", fmt.Errorf("runner: diff: no source kept for v%d", from)
	}
	return diffTrees(fmt.Sprintf("v%d", from), fmt.Sprintf("v%d", to), a, b), nil
}

// diffTrees diffs two trees file by file, in path order.
func diffTrees(la, lb string, a, b map[string]string) string {
	var out strings.Builder
	for _, f := range treeFiles(a, b) {
		out.WriteString(udiff.Unified(la+"/"+f, lb+"/"+f, a[f], b[f]))
	}
	return out.String()
}

// stats counts the lines each changed file added and removed.
func stats(a, b map[string]string) []event.FileChange {
	var out []event.FileChange
	for _, f := range treeFiles(a, b) {
		if a[f] == b[f] {
			continue
		}
		fc := event.FileChange{Path: f}
		for _, line := range strings.Split(udiff.Unified("a", "b", a[f], b[f]), "\n") {
			switch {
			case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
			case strings.HasPrefix(line, "+"):
				fc.Added++
			case strings.HasPrefix(line, "-"):
				fc.Removed++
			}
		}
		out = append(out, fc)
	}
	return out
}

func treeFiles(a, b map[string]string) []string {
	var files []string
	for f := range a {
		files = append(files, f)
	}
	for f := range b {
		if _, ok := a[f]; !ok {
			files = append(files, f)
		}
	}
	slices.Sort(files)
	return files
}

// latestBefore returns the tree of the newest version before n that has
// one; nil for none.
func (s *sources) latestBefore(n int) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	best := 0
	for m := range s.trees {
		if m < n && m > best {
			best = m
		}
	}
	return s.trees[best]
}
