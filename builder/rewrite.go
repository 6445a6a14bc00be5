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
	return rewriteImportsFunc(src, func(p string) (string, bool) {
		switch {
		case p == from:
			return to, true
		case strings.HasPrefix(p, from+"/"):
			return to + p[len(from):], true
		}
		return "", false
	})
}

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
