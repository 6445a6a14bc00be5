package lab

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/internal/paths"
)

// A step is checked from hotrun's own events, never from the file's text:
// whatever the learner typed, the step is done when hotrun did what the
// step teaches (a handover happened, a load was refused for this reason, a
// global started again, a panic was contained).

// check watches the events that come after its step opened.
type check interface {
	// see takes one event and reports whether the step is done now.
	see(s *session, e event.Event) bool
	// seen says what the events showed, once done, for people.
	seen() string
}

// session is what the guide knows of the hotrun session from the events
// so far, for the checks: the engine serving and the version live.
type session struct {
	dir  string       // the lab's project
	wd   string       // where hotrun runs: paths in events are relative to it
	pid  int          // the engine started last
	live int          // the version live in it, as load.ok and rollback said
	mem  event.Memory // its last memory report
}

// rel names a path as an event gives it (relative to where hotrun runs,
// or absolute) relative to the project, as the steps name files.
func (s *session) rel(path string) string {
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.wd, path)
	}
	if r, ok := paths.Within(s.dir, path); ok {
		return filepath.ToSlash(r)
	}
	return path
}

// observe keeps s up to date with e.
func (s *session) observe(e event.Event) {
	switch e := e.(type) {
	case event.EngineStart:
		s.pid, s.live, s.mem = e.PID, 0, event.Memory{}
	case event.LoadOK:
		s.live = e.Version
	case event.Rollback:
		s.live = e.To
	case event.Memory:
		s.mem = e
	}
}

// both is checks that may be done in any order: each sees every event
// until it is done.
func both(cs ...check) check { return &bothCheck{cs: cs, done: make([]bool, len(cs))} }

type bothCheck struct {
	cs   []check
	done []bool
}

func (c *bothCheck) see(s *session, e event.Event) bool {
	all := true
	for i, x := range c.cs {
		if !c.done[i] {
			c.done[i] = x.see(s, e)
		}
		all = all && c.done[i]
	}
	return all
}

func (c *bothCheck) seen() string { return (&seqCheck{cs: c.cs}).seen() }

// seq is checks one after another: each sees the events after the one
// before it was done.
func seq(cs ...check) check { return &seqCheck{cs: cs} }

type seqCheck struct {
	cs []check
	i  int
}

func (c *seqCheck) see(s *session, e event.Event) bool {
	if c.i < len(c.cs) && c.cs[c.i].see(s, e) {
		c.i++
	}
	return c.i == len(c.cs)
}

func (c *seqCheck) seen() string {
	var parts []string
	for _, x := range c.cs {
		if t := x.seen(); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "; ")
}

// handover waits for a change to a package the engine holds and the new
// engine that takes over from the old one: a new pid starts, and the pid
// that served exits after it.
func handover(file string) check { return &handoverCheck{file: file} }

type handoverCheck struct {
	file     string // a file the change must hold; "" for any
	changed  bool
	files    []string
	from, to int
}

func (c *handoverCheck) see(s *session, e event.Event) bool {
	switch e := e.(type) {
	case event.Change:
		if e.Kind != event.KindHost {
			break
		}
		var files []string
		for _, f := range e.Files {
			files = append(files, s.rel(f))
		}
		if c.file == "" || slices.Contains(files, c.file) {
			c.changed, c.files = true, files
		}
	case event.EngineStart:
		if c.changed {
			c.from, c.to = s.pid, e.PID // s still names the engine before
		}
	case event.EngineExit:
		if c.to == 0 {
			return false
		}
		if e.PID == c.to {
			c.to = 0 // the new engine died: no handover yet
			return false
		}
		return e.PID == c.from
	}
	return false
}

func (c *handoverCheck) seen() string {
	return fmt.Sprintf("a change to %s, which the engine holds: pid %d handed over to pid %d", event.Summarize(c.files, 2), c.from, c.to)
}

// swap waits for a change of the logic to go live in the engine that
// serves, with no new engine between.
func swap() check { return &swapCheck{} }

type swapCheck struct {
	changed  bool
	pid, ver int
}

func (c *swapCheck) see(s *session, e event.Event) bool {
	switch e := e.(type) {
	case event.Change:
		if e.Kind == event.KindLogic {
			c.changed, c.pid = true, s.pid
		}
	case event.EngineStart:
		c.changed = false // a new engine is no swap
	case event.LoadOK:
		if c.changed && s.pid == c.pid {
			c.ver = e.Version
			return true
		}
	}
	return false
}

func (c *swapCheck) seen() string {
	return fmt.Sprintf("v%d swapped into pid %d, the same process", c.ver, c.pid)
}

// answer waits for a probe answer that ok accepts.
func answer(ok func(p event.Probe) bool) check { return &answerCheck{ok: ok} }

type answerCheck struct {
	ok  func(p event.Probe) bool
	got event.Probe
}

func (c *answerCheck) see(_ *session, e event.Event) bool {
	p, isProbe := e.(event.Probe)
	if !isProbe || p.Error != "" || !c.ok(p) {
		return false
	}
	c.got = p
	return true
}

func (c *answerCheck) seen() string {
	return fmt.Sprintf("v%d answered %s with %q", c.got.Version, c.got.Request, tail(c.got.Body))
}

// tail keeps the end of a long probe's body, where the labs add what they
// show, from "version=" (the example's answer) or a field's start.
func tail(body string) string {
	const keep = 150
	if len(body) <= keep {
		return body
	}
	if i := strings.Index(body, "version="); i >= 0 {
		body = body[i:]
	}
	if len(body) > keep {
		body = body[len(body)-keep:]
		if i := strings.Index(body, ", "); i >= 0 {
			body = body[i+2:]
		}
		body = "…" + body
	}
	return body
}

// oneLine joins the lines of a message (a compiler's continuation lines)
// for a sentence.
func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ") }

// says reports whether a probe's body holds every one of words.
func says(words ...string) func(event.Probe) bool {
	return func(p event.Probe) bool {
		for _, w := range words {
			if !strings.Contains(p.Body, w) {
				return false
			}
		}
		return true
	}
}

// number returns the integer after "key=" in a probe's body.
func number(body, key string) (int, bool) {
	m := regexp.MustCompile(`\b` + regexp.QuoteMeta(key) + `=(-?\d+)`).FindStringSubmatch(body)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// buildFails waits for a build whose compiler or go command message holds
// words.
func buildFails(words string) check { return &buildFailCheck{words: words} }

type buildFailCheck struct {
	words string
	got   string
	ver   int
}

func (c *buildFailCheck) see(_ *session, e event.Event) bool {
	f, ok := e.(event.BuildFail)
	if !ok {
		return false
	}
	for _, d := range f.Diagnostics {
		if strings.Contains(d.Msg, c.words) {
			c.got, c.ver = oneLine(d.String()), f.Version
			return true
		}
	}
	if strings.Contains(f.Error, c.words) {
		c.got, c.ver = firstLine(f.Error), f.Version
		return true
	}
	return false
}

func (c *buildFailCheck) seen() string {
	return fmt.Sprintf("v%d's build failed: %s", c.ver, c.got)
}

// refused waits for the engine to refuse a version for the reason code
// (protocol.Code*).
func refused(code string) check { return &refusedCheck{code: code} }

type refusedCheck struct {
	code string
	got  event.LoadFail
	live int
}

func (c *refusedCheck) see(s *session, e event.Event) bool {
	f, ok := e.(event.LoadFail)
	if !ok || f.Code != c.code {
		return false
	}
	c.got, c.live = f, s.live
	return true
}

func (c *refusedCheck) seen() string {
	return fmt.Sprintf("v%d refused (%s); v%d kept serving", c.got.Version, firstLine(c.got.Error), c.live)
}

// contained waits for a panic in a version that answered the request
// that panicked with 500, and another with 200: the panic was recovered,
// and the version serves on. (A panic that ended the engine leaves the
// request with no answer at all.)
func contained() check { return &containedCheck{status: map[int]map[int]bool{}} }

type containedCheck struct {
	p      *event.Panic
	status map[int]map[int]bool // version → the statuses of its answers
}

func (c *containedCheck) see(_ *session, e event.Event) bool {
	switch e := e.(type) {
	case event.Panic:
		c.p = &e
	case event.Probe:
		if c.status[e.Version] == nil {
			c.status[e.Version] = map[int]bool{}
		}
		c.status[e.Version][e.Status] = true
	case event.EngineStart:
		c.p = nil // the engine died: nothing was contained
		clear(c.status)
	}
	return c.p != nil && c.status[c.p.Version][200] && c.status[c.p.Version][500]
}

func (c *containedCheck) seen() string {
	return fmt.Sprintf("v%d panicked in %s (%s): that request got 500, the other 200", c.p.Version, c.p.Where, c.p.Value)
}

// dies waits for the serving engine to die of itself with Go's exit code
// for a panic no recover caught (2), and a new engine to serve.
func dies() check { return &diesCheck{} }

type diesCheck struct {
	died     event.EngineExit
	ver, to  int
	replaced bool
}

func (c *diesCheck) see(s *session, e event.Event) bool {
	switch e := e.(type) {
	case event.EngineExit:
		if e.PID == s.pid && e.Code == 2 && e.Signal == "" && !e.Expected {
			c.died, c.ver = e, s.live
		}
	case event.EngineStart:
		if c.died.PID != 0 {
			c.to, c.replaced = e.PID, true
		}
	case event.LoadOK:
		if c.replaced {
			c.ver = e.Version
			return true
		}
	}
	return false
}

func (c *diesCheck) seen() string {
	return fmt.Sprintf("pid %d died (exit code 2); pid %d took over on v%d", c.died.PID, c.to, c.ver)
}

// engineSays waits for lines of the engine's own output: done once ok has
// accepted lines it says are enough.
func engineSays(ok func(line string) (enough bool)) check { return &engineSaysCheck{ok: ok} }

type engineSaysCheck struct {
	ok   func(string) bool
	last string
}

func (c *engineSaysCheck) see(_ *session, e event.Event) bool {
	l, isLog := e.(event.Log)
	if !isLog || l.Source != event.SourceEngine {
		return false
	}
	if c.ok(l.Text) {
		c.last = l.Text
		return true
	}
	return false
}

func (c *engineSaysCheck) seen() string { return fmt.Sprintf("the engine said %q", c.last) }

// ticksFrom waits, after a swap, for the engine's output to hold tick lines
// ("lab: tick from version N") from two versions of the model: the old
// version's goroutine still runs beside the new one's.
func ticksFrom() check { return &ticksCheck{from: map[int]bool{}} }

type ticksCheck struct {
	swapped bool
	ver     int
	from    map[int]bool
}

var tickLine = regexp.MustCompile(`tick from version (\d+)`)

func (c *ticksCheck) see(_ *session, e event.Event) bool {
	switch e := e.(type) {
	case event.LoadOK:
		c.swapped, c.ver = true, e.Version
		clear(c.from)
	case event.Log:
		m := tickLine.FindStringSubmatch(e.Text)
		if c.swapped && e.Source == event.SourceEngine && m != nil {
			n, _ := strconv.Atoi(m[1])
			c.from[n] = true
		}
	}
	return len(c.from) >= 2
}

func (c *ticksCheck) seen() string {
	var vs []int
	for v := range c.from {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	var s []string
	for _, v := range vs {
		s = append(s, strconv.Itoa(v))
	}
	return fmt.Sprintf("after v%d went live, ticks from the models %s, every second", c.ver, strings.Join(s, " and "))
}

// units waits for a unit of work by name to run on two versions: the loop
// that runs it calls the version live at each turn.
func units(name string) check { return &unitsCheck{name: name} }

type unitsCheck struct {
	name     string
	first    int
	then     int
	pid      int  // the engine the first unit ran in
	replaced bool // the second ran in another engine: a handover, not a swap
}

func (c *unitsCheck) see(s *session, e event.Event) bool {
	u, ok := e.(event.Unit)
	if !ok || u.Unit != c.name || u.Error != "" {
		return false
	}
	if c.first == 0 {
		c.first, c.pid = u.Version, s.pid
		return false
	}
	if u.Version != c.first {
		c.then, c.replaced = u.Version, s.pid != c.pid
		return true
	}
	return false
}

func (c *unitsCheck) seen() string {
	how := "after the swap"
	if c.replaced {
		how = "in the engine that took over"
	}
	return fmt.Sprintf("the unit %q ran on v%d, then on v%d %s", c.name, c.first, c.then, how)
}

// grows waits for n loads into the serving engine, and then a memory
// report of it holding them all, in more memory than before.
func grows(n int) check { return &growsCheck{n: n} }

type growsCheck struct {
	n     int
	begun bool
	start event.Memory // the report before the step, if any
	loads int
	last  event.Memory
}

func (c *growsCheck) see(s *session, e event.Event) bool {
	if !c.begun {
		c.begun, c.start = true, s.mem
	}
	switch e := e.(type) {
	case event.EngineStart:
		c.loads = 0 // a new engine holds none of them
	case event.LoadOK:
		c.loads++
	case event.Memory:
		if c.start.VersionsLoaded == 0 {
			c.start = e // no report before the step: the first during it
		}
		c.last = e
		// A report right after a load may carry the memory read before
		// it: the step waits for one that saw the versions' memory.
		return c.loads >= c.n && e.VersionsLoaded > c.n && (e.RSSBytes > c.start.RSSBytes || c.start.VersionsLoaded == e.VersionsLoaded)
	}
	return false
}

func (c *growsCheck) seen() string {
	s := fmt.Sprintf("%d versions loaded and %s of memory", c.last.VersionsLoaded, mb(c.last.RSSBytes))
	if c.start.VersionsLoaded > 0 && c.start.VersionsLoaded < c.last.VersionsLoaded {
		s += fmt.Sprintf(", from %d and %s", c.start.VersionsLoaded, mb(c.start.RSSBytes))
	}
	return s
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

// rolledBack waits for the engine to switch back to a version it holds.
func rolledBack() check { return &rollbackCheck{} }

type rollbackCheck struct{ got event.Rollback }

func (c *rollbackCheck) see(_ *session, e event.Event) bool {
	r, ok := e.(event.Rollback)
	if ok && r.To < r.From {
		c.got = r
		return true
	}
	return false
}

func (c *rollbackCheck) seen() string {
	return fmt.Sprintf("v%d → v%d in the same engine", c.got.From, c.got.To)
}

// recycled waits for a new engine that holds one version after taking
// over: the memory of the old one's versions given back.
func recycled() check { return &recycledCheck{} }

type recycledCheck struct {
	from, to int
	exited   bool
	mem      event.Memory
}

func (c *recycledCheck) see(s *session, e event.Event) bool {
	switch e := e.(type) {
	case event.EngineRestart:
		c.from = e.PID
	case event.EngineStart:
		if c.from != 0 {
			c.to = e.PID
		}
	case event.EngineExit:
		c.exited = c.exited || c.to != 0 && e.PID == c.from
	case event.Memory:
		if c.exited && s.pid == c.to && e.VersionsLoaded == 1 {
			c.mem = e
			return true
		}
	}
	return false
}

func (c *recycledCheck) seen() string {
	return fmt.Sprintf("pid %d handed over to pid %d, which holds 1 version in %s", c.from, c.to, mb(c.mem.RSSBytes))
}

// tried waits for the step's experiment to report what ok accepts.
func tried(ok func(t event.Trial) bool, say func(t event.Trial) string) check {
	return &trialCheck{ok: ok, say: say}
}

type trialCheck struct {
	ok  func(event.Trial) bool
	say func(event.Trial) string
	got event.Trial
}

func (c *trialCheck) see(_ *session, e event.Event) bool {
	t, isTrial := e.(event.Trial)
	if !isTrial || t.Error != "" || !c.ok(t) {
		return false
	}
	c.got = t
	return true
}

func (c *trialCheck) seen() string { return c.say(c.got) }
