package builder

import (
	"go/parser"
	"go/token"
	"strconv"
)

// rewriteImportsFunc returns src with each import path p for which
// rename(p) reports true replaced by what it returns, byte for byte in
// place.
func rewriteImportsFunc(src []byte, rename func(string) (string, bool)) []byte {
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
		np, ok := rename(p)
		if !ok {
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
