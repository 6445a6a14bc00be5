package runner

import (
	"fmt"

	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// libraryMismatch is the error for an engine whose library speaks another
// control protocol than this hotrun (engineProto 0: one older than the
// status command; engineLib "": one older than the version field). mine is
// the library version hotrun was built with ([protocol.LibraryVersion]).
// It is one sentence that names both versions and the command that makes
// them agree: hot and hotrun are released together at the same version, so
// the fix is the library at hotrun's version, or hotrun at the library's.
func libraryMismatch(engineLib string, engineProto int, mine string) error {
	var engine string
	switch {
	case engineProto == 0:
		engine = "an engine library older than the status command"
	case engineLib == "(devel)":
		engine = fmt.Sprintf("the engine library from a local copy ((devel), control protocol %d)", engineProto)
	case engineLib != "":
		engine = fmt.Sprintf("engine library %s (control protocol %d)", engineLib, engineProto)
	default:
		engine = fmt.Sprintf("an engine library older than v0.1.0 (control protocol %d)", engineProto)
	}
	hotrun := fmt.Sprintf("%s (protocol %d)", mine, protocol.Version)
	released := func(v string) bool { return v != "" && v != "(devel)" }
	var fix string
	switch {
	case released(mine) && engineLib == "(devel)":
		fix = fmt.Sprintf("drop the replace or go.work entry that points your module at that copy, and run `go get %s@%s` in it", protocol.LibraryModule, mine)
	case released(mine):
		fix = fmt.Sprintf("run `go get %s@%s` in your module", protocol.LibraryModule, mine)
	case released(engineLib):
		hotrun = fmt.Sprintf("a local copy (%s, protocol %d)", mine, protocol.Version)
		fix = fmt.Sprintf("point your module at this hotrun's checkout (`hotrun init -local`), or install the hotrun of your library: `go install github.com/hotrun-dev/hotrun/cmd/hotrun@%s`", engineLib)
	default:
		hotrun = fmt.Sprintf("a local copy (%s, protocol %d)", mine, protocol.Version)
		fix = "build the engine and hotrun from the same checkout"
	}
	return fmt.Errorf("runner: the engine was built with %s and this hotrun with %s: %s", engine, hotrun, fix)
}
