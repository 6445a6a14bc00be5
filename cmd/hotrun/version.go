package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// hotrunModule is hotrun's module path.
const hotrunModule = "github.com/hotrun-dev/hotrun"

// runVersion is `hotrun -version` (and `hotrun version`): hotrun's module
// version, the engine library it was built with and the control protocol
// they speak, and the Go it was built with. An engine must be built with a
// library that speaks the same protocol; its Go is the go command on PATH,
// which builds the engine and its plugins, not this one.
func runVersion(stdout io.Writer) error {
	_, err := fmt.Fprintf(stdout, "hotrun %s\nengine library %s %s, control protocol %d\nbuilt with %s %s/%s\n",
		hotrunVersion(), protocol.LibraryModule, orDevel(protocol.LibraryVersion()), protocol.Version,
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}

// hotrunVersion returns hotrun's module version from the build info: the
// version `go install …@vX` or `go get -tool …@vX` built, or "(devel)" for
// a build from a clone.
func hotrunVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	if bi.Main.Path == hotrunModule {
		return orDevel(bi.Main.Version)
	}
	// `go tool hotrun` builds hotrun as a tool of the user's module: that
	// module is the main one, and hotrun a dependency.
	for _, m := range bi.Deps {
		if m.Path == hotrunModule {
			if m.Replace != nil {
				return orDevel(m.Replace.Version)
			}
			return orDevel(m.Version)
		}
	}
	return "(devel)"
}

func orDevel(v string) string {
	if v == "" {
		return "(devel)"
	}
	return v
}
