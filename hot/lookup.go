package hot

import (
	"github.com/hotrun-dev/hotrun/hot/protocol"

	"errors"
	"fmt"
	"plugin"
	"reflect"
	"strings"
)

var (
	errLoadedTwice    = errors.New("version already loaded")
	errInitPanic      = errors.New("plugin init panicked")
	errCheckFailed    = errors.New("check rejected the version")
	errMigrateFailed  = errors.New("migrate hook failed")
	errNoSymbol       = errors.New("symbol not found")
	errWrongType      = errors.New("symbol has the wrong type")
	errOutsideBuild   = errors.New("plugin path outside hotrun's build directory")
	errUnknownCommand = errors.New("unknown command")
)

// symbols is where Lookup finds a version's exported names: a
// *plugin.Plugin, or the symbols of a logic compiled into the engine.
type symbols interface {
	Lookup(name string) (plugin.Symbol, error)
}

// Lookup finds the exported symbol name in p as a T. The plugin may export
// a variable of type T (`var Logic game.Logic = …`, which Go hands over as a
// *T) or a value whose type is, or implements, T (a function, or a pointer to
// a variable of a type that implements interface T). A missing symbol or one
// of another type is an error that names both types, never a panic.
func lookup[T any](p symbols, name string) (T, error) {
	var zero T
	s, err := p.Lookup(name)
	if err != nil {
		return zero, fmt.Errorf("%w: the plugin exports no %s (declare `var %s %s` in its main package)", errNoSymbol, name, name, typeName[T]())
	}
	switch v := s.(type) {
	case *T:
		return *v, nil
	case T:
		return v, nil
	}
	return zero, fmt.Errorf("%w: %s is a %T, the engine expects a %s", errWrongType, name, s, typeName[T]())
}

// lookupOptional is Lookup for a symbol the plugin may leave out: absent
// is no error, present with another type is.
func lookupOptional[T any](p symbols, name string) (T, error) {
	var zero T
	if _, err := p.Lookup(name); err != nil {
		return zero, nil
	}
	return lookup[T](p, name)
}

func typeName[T any]() string {
	return reflect.TypeFor[T]().String()
}

// code classifies a load failure for a protocol.Reply; see protocol.Code*. The plugin
// package's own failures carry no type, so its messages are matched here,
// inside the process that produced them, and never again elsewhere.
func code(err error) string {
	if err == nil {
		return protocol.CodeOther
	}
	msg := err.Error()
	switch {
	case errors.Is(err, errNoSymbol):
		return protocol.CodeNoSymbol
	case errors.Is(err, errWrongType):
		return protocol.CodeWrongType
	case errors.Is(err, errInitPanic):
		return protocol.CodeInitPanic
	case errors.Is(err, errCheckFailed):
		return protocol.CodeCheckFailed
	case errors.Is(err, errMigrateFailed):
		return protocol.CodeMigrateFailed
	case errors.Is(err, errLoadedTwice):
		return protocol.CodeLoadedTwice
	case errors.Is(err, errOutsideBuild):
		return protocol.CodeOutsideBuild
	case errors.Is(err, errUnknownCommand):
		return protocol.CodeUnknownCommand
	case strings.Contains(msg, "plugin already loaded"):
		return protocol.CodeAlreadyLoaded
	case strings.Contains(msg, "different version of package"):
		return protocol.CodeDifferentPackage
	case strings.Contains(msg, "plugin: not implemented"):
		return protocol.CodeNoPlugins
	case strings.Contains(msg, "cannot open shared object file"), strings.Contains(msg, "no such file"):
		return protocol.CodeMissingFile
	}
	return protocol.CodeOther
}

// explanations say, for each known load failure, what happened and what
// to do, in one plain sentence, and name the lab that shows the limit
// behind it (`hotrun lab NAME`, which runs on a copy of hotrun's example).
var explanations = map[string]string{
	protocol.CodeNoSymbol:         "The new version does not export the symbol the engine looks up; the old version keeps serving. Export it from the logic's main package.",
	protocol.CodeWrongType:        "The new version exports the symbol with another type than the engine expects; the old version keeps serving. Declare it with the type from the shared package: a type declared in the plugin is a new type in every version (hotrun lab type-identity).",
	protocol.CodeInitPanic:        "The new version panicked while initializing (a package init or a global's initializer); the old version keeps serving. Fix the panic and save again (hotrun lab panic).",
	protocol.CodeCheckFailed:      "The new version failed its check before taking traffic; the old version keeps serving.",
	protocol.CodeMigrateFailed:    "The new version's Migrate hook failed, so it never took traffic; the old version keeps serving with the state as it was.",
	protocol.CodeLoadedTwice:      "This version number was loaded before; Go can't load a plugin twice (hotrun lab open-twice). hotrun gives each build a new number, so this is a hotrun bug or a manual load.",
	protocol.CodeOutsideBuild:     "The engine only loads plugins that hotrun built, from its build directory; this request was refused.",
	protocol.CodeAlreadyLoaded:    "A plugin with the same plugin path was loaded before; Go loads each path once. Build every version with a new plugin path, as hotrun does (hotrun lab plugin-path).",
	protocol.CodeDifferentPackage: "A package the engine holds changed since the engine was built (hotrun lab shared-struct), or engine and plugin were built with different flags (hotrun lab flags-mismatch), toolchains or dependency versions (hotrun lab dep-version); only a new engine can take it.",
	protocol.CodeNoPlugins:        "This Go has no plugin support here: plugins need Linux, macOS or FreeBSD and CGO_ENABLED=1. Use restart mode.",
	protocol.CodeMissingFile:      "The plugin file is missing; rebuild it.",
}

// explain turns the known Go plugin failures into one plain sentence that
// says what happened and what to do. It returns "" for errors it does not
// know; the raw error is always shown beside it.
func explain(err error) string { return explanations[code(err)] }

// staticMap is the symbols of a logic compiled into the engine, looked up
// like a plugin's.
type staticMap map[string]any

func (m staticMap) Lookup(name string) (plugin.Symbol, error) {
	s, ok := m[name]
	if !ok {
		return nil, fmt.Errorf("symbol %s not found in the logic compiled into the engine", name)
	}
	return s, nil
}
