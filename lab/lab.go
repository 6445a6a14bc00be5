package lab

import (
	"fmt"
	"slices"
	"strings"
)

// A Lab is one limit of Go plugins, taught in a few steps on a copy of the
// example.
type Lab struct {
	Name  string // "type-identity": what `hotrun lab NAME` takes
	Limit string // the limit, in one line
	// files are written into the project over the example's, when it is
	// made: a lab's own starting point (slash-separated paths).
	files map[string]string
	// setup are edits made to the example when the project is made.
	setup []edit
	// gomod is added to the project's go.mod (a lab's own dependencies).
	gomod string
	// probes are the requests the lab's session sends after every swap
	// and engine start; nil means defaultProbes.
	probes []string
	steps  []step
}

// defaultProbes ask twice, so that the answers show what one version
// keeps between two requests as well as what changes from one to the next.
var defaultProbes = []string{"GET /hello?name=test", "GET /hello?name=again"}

// Steps is how many steps the lab has.
func (l *Lab) Steps() int { return len(l.steps) }

// step is one thing to do in a lab, the events that say it was done, and
// what it teaches.
type step struct {
	title string
	goal  string // what to do, in a sentence or two
	file  string // the file to edit, relative to the project; "" for none
	at    string // text on the line of file to point at (its first line that holds it)
	// saves are the reference edits, one save after another (each waits
	// for the one before to settle): what `hotrun lab -check` does, and
	// `a` in the screen.
	saves [][]edit
	// key is a key the step asks for instead of an edit (keyRollback,
	// keyRestart); the reference presses it.
	key string
	// trial is an experiment the lab runs beside hotrun when the step's
	// save is built; nil for none.
	trial *trial
	// expect returns a fresh check of the step's events: each time the
	// step opens, its check starts from nothing.
	expect func() check
	did    string // what hotrun did, and why
	rule   string // the Go rule behind it
	link   string // the Go issue or document
}

// Keys a step may ask for.
const (
	keyRollback = "b"
	keyRestart  = "R"
)

// edit is one reference edit of a file: old, which must appear in it
// exactly once, replaced by new; with old "", new is the whole file.
type edit struct {
	file, old, new string
}

// apply makes e on the text of its file.
func (e edit) apply(text string) (string, error) {
	if e.old == "" {
		return e.new, nil
	}
	switch n := strings.Count(text, e.old); n {
	case 1:
		return strings.Replace(text, e.old, e.new, 1), nil
	case 0:
		return "", fmt.Errorf("lab: %s holds no %q (edited by hand already?)", e.file, firstLine(e.old))
	default:
		return "", fmt.Errorf("lab: %s holds %q %d times", e.file, firstLine(e.old), n)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// all is every lab, in the order a learner best takes them: what every
// project meets first, then what a project meets as it grows, then what
// only a build done by hand meets.
var all = []func() *Lab{
	globalVar, sharedStruct, typeIdentity, mainVar,
	panicLab, goroutine, memory,
	pluginPath, openTwice, flagsMismatch, race, depVersion,
}

// All returns every lab, in the order to take them.
func All() []*Lab {
	labs := make([]*Lab, len(all))
	for i, f := range all {
		labs[i] = f()
	}
	return labs
}

// Find returns the lab named name, or nil.
func Find(name string) *Lab {
	i := slices.IndexFunc(All(), func(l *Lab) bool { return l.Name == name })
	if i < 0 {
		return nil
	}
	return All()[i]
}

// Names returns every lab's name, in order.
func Names() []string {
	var names []string
	for _, l := range All() {
		names = append(names, l.Name)
	}
	return names
}
