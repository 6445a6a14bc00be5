package runner

import (
	"fmt"
	"testing"

	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// TestLibraryMismatch: each way the engine's library and hotrun can
// disagree gives one sentence with both versions and the command that fixes
// it.
func TestLibraryMismatch(t *testing.T) {
	newer := protocol.Version + 1
	for _, tc := range []struct {
		lib   string
		proto int
		mine  string
		want  string
	}{
		{"v0.1.0", 1, "v0.2.0", fmt.Sprintf("runner: the engine was built with engine library v0.1.0 (control protocol 1) and this hotrun with v0.2.0 (protocol %d): run `go get github.com/hotrun-dev/hotrun/hot@v0.2.0` in your module", protocol.Version)},
		{"v0.3.0", newer, "v0.2.0", fmt.Sprintf("runner: the engine was built with engine library v0.3.0 (control protocol %d) and this hotrun with v0.2.0 (protocol %d): run `go get github.com/hotrun-dev/hotrun/hot@v0.2.0` in your module", newer, protocol.Version)},
		{"", 1, "v0.2.0", fmt.Sprintf("runner: the engine was built with an engine library older than v0.1.0 (control protocol 1) and this hotrun with v0.2.0 (protocol %d): run `go get github.com/hotrun-dev/hotrun/hot@v0.2.0` in your module", protocol.Version)},
		{"", 0, "v0.2.0", fmt.Sprintf("runner: the engine was built with an engine library older than the status command and this hotrun with v0.2.0 (protocol %d): run `go get github.com/hotrun-dev/hotrun/hot@v0.2.0` in your module", protocol.Version)},
		{"(devel)", 1, "v0.2.0", fmt.Sprintf("runner: the engine was built with the engine library from a local copy ((devel), control protocol 1) and this hotrun with v0.2.0 (protocol %d): drop the replace or go.work entry that points your module at that copy, and run `go get github.com/hotrun-dev/hotrun/hot@v0.2.0` in it", protocol.Version)},
		{"v0.1.0", 1, "(devel)", fmt.Sprintf("runner: the engine was built with engine library v0.1.0 (control protocol 1) and this hotrun with a local copy ((devel), protocol %d): point your module at this hotrun's checkout (`hotrun init -local`), or install the hotrun of your library: `go install github.com/hotrun-dev/hotrun/cmd/hotrun@v0.1.0`", protocol.Version)},
		{"(devel)", 1, "(devel)", fmt.Sprintf("runner: the engine was built with the engine library from a local copy ((devel), control protocol 1) and this hotrun with a local copy ((devel), protocol %d): build the engine and hotrun from the same checkout", protocol.Version)},
	} {
		if got := libraryMismatch(tc.lib, tc.proto, tc.mine).Error(); got != tc.want {
			t.Errorf("library %q protocol %d, hotrun's %q:\n got %s\nwant %s", tc.lib, tc.proto, tc.mine, got, tc.want)
		}
	}
}
