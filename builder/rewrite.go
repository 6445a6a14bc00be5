package builder

import (
	"go/parser"
	"go/token"
	"strconv"
	"strings"
)

// rewriteImports returns src with every import of from, or of a package
// below it, renamed to the same path below to. Only the import paths' bytes
// change, so line and column numbers stay those of the user's file. A file
// that doesn't parse is returned as it is: the compiler will report it.
func rewriteImports(src []byte, from, to string) []byte {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ImportsOnly)
	if err != nil {
		return src
	}
	var out []byte
	last := 0
	for _, spec := range f.Imports {
		p, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			continue
		}
		var np string
		switch {
		case p == from:
			np = to
		case strings.HasPrefix(p, from+"/"):
			np = to + p[len(from):]
		default:
			continue
		}
		start := fset.Position(spec.Path.Pos()).Offset
		end := fset.Position(spec.Path.End()).Offset
		out = append(out, src[last:start]...)
		out = append(out, strconv.Quote(np)...)
		last = end
	}
	if out == nil {
		return src
	}
	return append(out, src[last:]...)
}
