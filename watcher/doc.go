// Package watcher turns file-system activity in a Go module into bursts of
// real changes: one [Change] per save, per formatter run, per git checkout.
//
// The watcher owns the question "which files that go build reads have new
// content?". It never decides what to build and never prints: it delivers a
// Change on [Watcher.Changes] and publishes warnings and (when asked)
// [event.Ignored] events on the one event stream.
//
// # What counts
//
// A file counts when the build reads it. Which files those are is package
// gosrc's rule, the one the builder stages the logic tree by:
//
//   - the files go build compiles (.go files but _test.go files and names
//     starting with . or _; assembly, cgo sources and headers, .syso
//     objects) and go.mod, go.sum, go.work and go.work.sum;
//   - files named by a //go:embed line in a .go file of their directory or
//     of a directory above, directly or through an embedded directory;
//   - files that a [Config.Include] glob matches.
//
// Never counted: anything inside .git or .hotrun; the directories vendor,
// node_modules and testdata, and directories whose name starts with "." or
// "_" (unless an Include glob reaches into them); whatever a .gitignore file
// says (nested .gitignore files apply to their own subtree; a file that a
// //go:embed line names counts even when it is gitignored, since generated
// assets such as dist/ usually are); paths that a [Config.Exclude] glob
// matches; and editor temporary files (see below).
//
// # Bursts and content
//
// The watcher does not forward events (but for a hint at the first of a
// burst, [Watcher.Activity]); it compares content. Every event marks a path
// dirty. When no event has arrived for [Config.Debounce] (50 ms by
// default), the burst ends: the watcher reads every dirty file that counts,
// once (a .go file's //go:embed lines and its digest come from the same
// read), and compares its digest ([gosrc.Digest], the one the builder
// computes of what it stages) with the one it held before. A Change lists
// the files whose content differs, that appeared, or that disappeared, and
// the digests it read ([Change.Digests]). So:
//
//   - touching a file, or saving it unchanged, is no change;
//   - a file created and removed within one burst is no change;
//   - a removed file that counted is a change;
//   - a burst of a thousand writes is one Change with a thousand files.
//
// Events for ignored paths do not extend a burst, so a log file written in
// the tree every few milliseconds never delays a Change.
//
// # Editors
//
// Editors rarely write a file in place. Because the watcher compares content
// after the burst, every save pattern below is one Change naming the real
// file and never a temporary one:
//
//   - vim writes a probe file named 4913 (or 5036, …), keeps .swp/.swx swap
//     files, and with backupcopy=no renames f.go to f.go~, writes a new f.go
//     and deletes the backup;
//   - JetBrains IDEs write f.go___jb_tmp___ and keep f.go___jb_old___;
//   - Emacs writes #f.go# auto-saves and a .#f.go lock symlink;
//   - VS Code, gopls-driven tools and most libraries save atomically: write
//     f.go.tmp123 (or a hidden temporary) and rename it over f.go.
//
// # Directories and symlinks
//
// Roots are watched recursively. A directory created (or renamed into the
// tree) later is watched as soon as its event arrives, and the files already
// inside it, written before the watch existed, are picked up by scanning
// it. A removed or renamed-away directory is dropped, and every counted file
// in it is reported as removed. Symbolic links to directories are followed
// once: a link to a directory that is already watched (including a link to
// an ancestor) is skipped, so a loop of links cannot make the watcher walk
// forever.
//
// # Polling
//
// With [Config.Poll], or when the system runs out of inotify watches, the
// watcher walks the roots every [Config.PollInterval] (250 ms by default)
// and compares each file's modification time, size and inode (where the
// system has one: not on Windows) with the previous walk; the files that
// differ go through the same content check.
// A burst then ends when one full poll interval plus the debounce period
// passes without a difference, so a checkout that spans two walks is still
// one Change. Polling works on Docker volumes and network mounts where
// inotify sees nothing, at the cost of a walk per interval.
//
// # Linux notes
//
// Every watched directory is one inotify watch, and the number of watches per
// user is limited by the fs.inotify.max_user_watches sysctl. When adding a
// watch fails because the limit is reached, the watcher publishes one
// warning with the fix,
//
//	sudo sysctl fs.inotify.max_user_watches=524288
//
// and falls back to polling for the rest of its life. If the kernel's event
// queue overflows, the watcher rescans every root, so no change is lost.
//
// # Limits
//
// A negated pattern (!pattern) in a nested .gitignore cannot re-include a
// path that a parent .gitignore ignores; each .gitignore is applied on its
// own and a path is ignored when any of them ignores it. Build constraints
// are not evaluated: a foo_windows.go file counts on Linux too, which costs
// at most a build that changes nothing.
package watcher
