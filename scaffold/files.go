package scaffold

import (
	"bytes"
	"embed"
	"text/template"
)

// The skeleton's files, as templates of the module path and the shared
// package's name.
//
//go:embed skeleton/*.tmpl
var skeleton embed.FS

var tmpl = template.Must(template.ParseFS(skeleton, "skeleton/*.tmpl"))

// file is one file of the skeleton.
type file struct {
	path string // slash-separated, relative to the module root
	what string // for people
	pkg  bool   // a Go file: written only into a directory without Go files
	src  []byte
	// needs is a file of the skeleton that must exist for this one to be
	// written; "" for none.
	needs string
}

// gen executes the template name with data.
func gen(name string, data any) []byte {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		panic("scaffold: template " + name + ": " + err.Error()) // the templates are ours
	}
	return b.Bytes()
}

// files returns the skeleton for module mod with shared package shared, in
// the order a reader meets them.
func files(mod, shared string) []file {
	data := struct{ Module, Shared, Engine, Logic, Symbol string }{mod, shared, "./engine", "./logic", ""}
	gen := func(name string) []byte { return gen(name, data) }
	return []file{
		{path: "engine/main.go", what: "the engine: owns the state, serves HTTP, loads the logic", pkg: true, src: gen("engine.go.tmpl")},
		{path: shared + "/" + shared + ".go", what: "the shared package: the state and the Logic interface", pkg: true, src: gen("shared.go.tmpl")},
		{path: "logic/main.go", what: "the logic plugin: exports var Logic " + shared + ".Logic", pkg: true, src: gen("logic.go.tmpl")},
		{path: "logic/greet/greet.go", what: "a logic sub-package: hot-swapped too", pkg: true, src: gen("greet.go.tmpl"), needs: "logic/main.go"},
		{path: "hotrun.toml", what: "hotrun's settings, every key commented", src: gen("hotrun.toml.tmpl")},
	}
}
