package protocol

import "runtime/debug"

// LibraryModule is the module path of the engine library, package hot and
// this package: a module of its own, versioned with hotrun (tags
// hot/vX.Y.Z beside hotrun's vX.Y.Z).
const LibraryModule = "github.com/hotrun-dev/hotrun/hot"

// LibraryVersion returns the version of the engine library this program
// was built with, as its build information records it: a module version
// such as "v0.1.0"; "(devel)" for a local copy (a go.work, a replace
// directive with a directory, or the library's own module); "" when the
// program has no build information. In an engine it is the library the
// engine speaks; in hotrun, the one hotrun speaks.
func LibraryVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	if bi.Main.Path == LibraryModule {
		return bi.Main.Version
	}
	for _, m := range bi.Deps {
		if m.Path != LibraryModule {
			continue
		}
		if r := m.Replace; r != nil {
			if r.Version == "" {
				return "(devel)" // replaced by a directory
			}
			return r.Version
		}
		return m.Version
	}
	return ""
}
