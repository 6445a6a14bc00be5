package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// What the long run reads of a process, from Linux's /proc. Each reader
// returns 0 (or nothing) for a process that is gone: the figure is then
// missing, never an error that ends the run.

// vmRSS is process pid's resident memory in bytes, VmRSS in
// /proc/PID/status.
func vmRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	return parseVmRSS(b)
}

// parseVmRSS reads "VmRSS:   12345 kB" out of a /proc/PID/status.
func parseVmRSS(status []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0
		}
		kb, _ := strconv.ParseInt(f[0], 10, 64)
		return kb << 10
	}
	return 0
}

// openFDs counts process pid's open file descriptors.
func openFDs(pid int) int {
	es, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0
	}
	return len(es)
}

// inotifyWatches counts the inotify watches process pid holds, over all its
// inotify descriptors: one "inotify wd:" line each in /proc/PID/fdinfo.
func inotifyWatches(pid int) int {
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	es, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		n += countInotify(b)
	}
	return n
}

// countInotify counts the watches in one /proc/PID/fdinfo/FD.
func countInotify(fdinfo []byte) int {
	n := 0
	for line := range bytes.Lines(fdinfo) {
		if bytes.HasPrefix(line, []byte("inotify wd:")) {
			n++
		}
	}
	return n
}

// children are the pids of process pid's children, from
// /proc/PID/task/*/children (a child belongs to the thread that forked it).
func children(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		out = append(out, parsePIDs(b)...)
	}
	return out
}

// descendants are pid's children, theirs, and so on.
func descendants(pid int) []int {
	var out []int
	for _, c := range children(pid) {
		out = append(out, c)
		out = append(out, descendants(c)...)
	}
	return out
}

// parsePIDs reads a space-separated list of pids.
func parsePIDs(b []byte) []int {
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// exePath is the executable process pid runs; for a file removed since,
// the kernel's " (deleted)" is cut off.
func exePath(pid int) string {
	p, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(p, " (deleted)")
}

// comm is process pid's command name.
func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

// goroutineTotalRE is the first line of /debug/pprof/goroutine?debug=1.
var goroutineTotalRE = regexp.MustCompile(`(?m)^goroutine profile: total (\d+)$`)

// parseGoroutineTotal reads the goroutine count out of a
// /debug/pprof/goroutine?debug=1 answer.
func parseGoroutineTotal(body string) (int, error) {
	m := goroutineTotalRE.FindStringSubmatch(body)
	if m == nil {
		return 0, fmt.Errorf("no \"goroutine profile: total N\" in %.80q", body)
	}
	return strconv.Atoi(m[1])
}

// dirSize sums the sizes of the files under dir: apparent (what ls -l
// says), also by the entry of dir they are under ("build", "stage", …),
// and allocated (the blocks they take on disk, a file with several links
// counted once). A file removed during the walk is skipped.
func dirSize(dir string) (apparent, allocated int64, parts map[string]int64) {
	type inode struct{ dev, ino uint64 }
	seen := map[inode]bool{}
	parts = map[string]int64{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		apparent += fi.Size()
		if rel, err := filepath.Rel(dir, p); err == nil {
			top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
			parts[top] += fi.Size()
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			k := inode{uint64(st.Dev), st.Ino}
			if !seen[k] {
				seen[k] = true
				allocated += st.Blocks * 512
			}
		}
		return nil
	})
	return apparent, allocated, parts
}

// loadAvg is the 1-minute load average, or "?".
func loadAvg() string {
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			return f[0]
		}
	}
	return "?"
}
