//go:build unix

package watcher

import (
	"io/fs"
	"syscall"
)

// inode returns fi's inode number, which polling compares so that a rename
// over a file of the same size and timestamp still counts as a change.
func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino) // a narrower type on some systems
	}
	return 0
}
