package watcher

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkStorm writes a thousand files in one burst per op, with the
// default debounce, and reports how many Changes that took: the figure the
// project holds itself to is 1 (one build per git checkout).
func BenchmarkStorm(b *testing.B) {
	root := b.TempDir()
	h := startWatcher(b, Config{Roots: []string{root}})
	changes := 0
	for i := 0; b.Loop(); i++ {
		for f := range 1000 {
			writeFile(b, filepath.Join(root, fmt.Sprintf("p%d", f%10), fmt.Sprintf("f%d.go", f)), fmt.Sprintf("package p%d // %d\n", f%10, i))
		}
		for seen := 0; seen < 1000; changes++ {
			seen += len(h.nextChange(b, "storm"))
		}
		// A burst split late would show up as one more change here.
		select {
		case c := <-h.w.Changes():
			changes++
			b.Logf("late change of %d files", len(c.Files))
		case <-time.After(4 * h.w.debounce):
		}
	}
	b.ReportMetric(float64(changes)/float64(b.N), "changes/op")
}

// BenchmarkSaveToChange measures the time from saving a file to receiving
// its Change with the default debounce: the debounce itself plus the
// watcher's own cost.
func BenchmarkSaveToChange(b *testing.B) {
	root := b.TempDir()
	p := filepath.Join(root, "a.go")
	writeFile(b, p, "package a\n")
	h := startWatcher(b, Config{Roots: []string{root}})
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		writeFile(b, p, fmt.Sprintf("package a // %d\n", i))
		h.nextChange(b, "save")
		total += time.Since(start)
	}
	b.ReportMetric(total.Seconds()*1000/float64(b.N), "ms/op")
}
