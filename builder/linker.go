package builder

import (
	"os/exec"
	"runtime"
	"strings"
)

// Linker choices for Config.Linker.
const (
	// LinkerAuto picks the fastest external linker installed: mold, then
	// lld, then gold; the C compiler's default when none is.
	LinkerAuto = ""
	// LinkerDefault leaves the external linker to the C compiler.
	LinkerDefault = "default"
)

// linkerOrder is LinkerAuto's preference, fastest first (measured on a
// net/http plugin: ld.bfd spends half of the whole build in the host link;
// mold about half of that; gold ~10 % of the build less than bfd).
var linkerOrder = []string{"mold", "lld", "gold"}

// chooseLinker returns the -fuse-ld name to pass to the C compiler, or ""
// for its default. want is Config.Linker; flags are every flag the go
// command gets: a user who passes -extldflags or -linkmode chose already.
func chooseLinker(want string, flags ...string) string {
	if want == LinkerDefault {
		return ""
	}
	for _, f := range flags {
		if strings.Contains(f, "-extldflags") || strings.Contains(f, "-linkmode") || strings.Contains(f, "-extld=") {
			return ""
		}
	}
	// -fuse-ld is how gcc and clang on ELF systems pick a linker; on macOS
	// the system linker is the only one Go supports.
	switch runtime.GOOS {
	case "linux", "freebsd", "netbsd", "openbsd", "dragonfly":
	default:
		return ""
	}
	if want != LinkerAuto {
		return want
	}
	for _, l := range linkerOrder {
		// The C compiler finds the linker -fuse-ld=X names as ld.X.
		if _, err := exec.LookPath("ld." + l); err == nil {
			return l
		}
	}
	return ""
}

// withLinker returns ldflags with the linker choice added.
func withLinker(ldflags, linker string) string {
	if linker == "" {
		return ldflags
	}
	return strings.TrimSpace(ldflags + " -extldflags=-fuse-ld=" + linker)
}
