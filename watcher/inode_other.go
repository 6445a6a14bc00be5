//go:build !unix

package watcher

import "io/fs"

// inode returns 0: this system's FileInfo carries no inode number (Windows
// keeps a file index behind a separate call), so polling compares the
// modification time and size alone.
func inode(fs.FileInfo) uint64 { return 0 }
