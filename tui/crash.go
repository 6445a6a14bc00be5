package tui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hotrun-dev/hotrun/event"
)

// ErrCrashed is what [Run] returns when the screen panicked again and again
// and gave up: more than crashLimit panics within crashWindow. The terminal
// is restored and Options.Records is not drained: the caller goes on
// showing the stream some other way (cmd/hotrun prints plain lines).
var ErrCrashed = errors.New("tui: the screen kept panicking")

// A panic in the screen is recovered where it happens; the screen gives up
// when they keep coming, at the (crashLimit+1)th within crashWindow: a pane
// whose state breaks it again right after each reset would otherwise log a
// crash a frame.
const (
	crashLimit  = 3
	crashWindow = time.Minute
	// crashLogsKept is how many crash logs a project's .hotrun keeps: the
	// newest, over all sessions.
	crashLogsKept = 20
)

// Parts of the screen: what a panic broke, and what is reset for it.
const (
	partScreen   = "screen" // no one part: all the parts with state of their own are reset
	partHeader   = "header"
	partBuild    = "build panel"
	partProbes   = "probe pane"
	partRequests = "request log"
	partTimeline = "timeline"
	partVersions = "version list"
	partDiff     = "diff view"
	partLastDiff = "last change's diff"
	partKeys     = "key help"
)

// guard is what the screen knows of its own panics. Like the rings, it is
// shared by the copies of a Model, and used on bubbletea's loop only:
// Update and View both run there.
type guard struct {
	dir string // where crash logs go; "" writes none
	now func() time.Time

	// wake asks the loop for a repairMsg once View has recovered a panic:
	// View can't change the model, Update can. nil when no [Run] drives the
	// model (tests), which then repairs at the next message.
	wake chan struct{}
	done chan struct{} // closed when Run ends: the command waiting on wake returns

	recent []time.Time // the panics of the last crashWindow
	broken []brokenPart
	gaveUp bool
	last   string // the last crash log written
	total  int    // panics recovered this session (the fuzz tests want none)
}

// brokenPart is a part whose drawing panicked: it is drawn as one line
// that says so until Update resets it.
type brokenPart struct {
	part string
	note string // for the timeline
}

// repairMsg tells Update to reset the parts View found broken.
type repairMsg struct{}

// cmdPanicMsg is a panic recovered in a command, which runs off the loop:
// the loop records it and resets part.
type cmdPanicMsg struct {
	part, where string
	value       any
	stack       []byte
}

func newGuard(dir string, now func() time.Time) *guard {
	return &guard{dir: dir, now: now}
}

// record writes a crash log for a panic recovered in where and returns the
// timeline's line about it. It gives up when panics keep coming.
func (g *guard) record(part, where string, value any, stack []byte, detail string) string {
	g.total++
	t := g.now()
	g.recent = slices.DeleteFunc(g.recent, func(c time.Time) bool { return t.Sub(c) >= crashWindow })
	g.recent = append(g.recent, t)
	if len(g.recent) > crashLimit {
		g.gaveUp = true
	}
	name := part
	if name == "" {
		name = partScreen
	}
	stackIn := "no crash log written"
	if g.dir != "" {
		in := "its screen (" + name + ")"
		if name == partScreen {
			in = "its screen"
		}
		path, err := WriteCrash(g.dir, in+", while "+where, value, stack, detail)
		if err != nil {
			stackIn = "no crash log: " + err.Error()
		} else {
			g.last, stackIn = path, "stack in "+relPath(path)
		}
	}
	reset := "; reset"
	switch part {
	case "":
		reset = ""
	case partScreen:
		reset = "; its panes reset"
	}
	return fmt.Sprintf("hotrun's screen recovered from a panic in the %s: %s\n  while %s%s; %s",
		name, firstLine(fmt.Sprint(value)), where, reset, stackIn)
}

// viewPanic records a panic in drawing part, which is drawn as a line
// saying so until Update resets it, and wakes the loop to do that.
func (g *guard) viewPanic(part string, value any, stack []byte, detail string) {
	note := g.record(part, "drawing the "+part, value, stack, detail)
	if !g.isBroken(part) {
		g.broken = append(g.broken, brokenPart{part, note})
	}
	if g.wake != nil {
		select {
		case g.wake <- struct{}{}:
		default: // a wake is pending, and it repairs this part too
		}
	}
}

func (g *guard) isBroken(part string) bool {
	return slices.ContainsFunc(g.broken, func(b brokenPart) bool { return b.part == part || b.part == partScreen })
}

// waitRepair is the re-armed command that turns View's wake into a
// repairMsg.
func (m Model) waitRepair() tea.Cmd {
	g := m.guard
	if g.wake == nil {
		return nil
	}
	return func() tea.Msg {
		select {
		case <-g.wake:
			return repairMsg{}
		case <-g.done:
			return nil
		}
	}
}

// repair resets the parts View found broken and puts the news on the
// timeline.
func (m *Model) repair() {
	g := m.guard
	for _, b := range g.broken {
		m.reset(b.part)
		m.crashNote(b.note)
	}
	g.broken = g.broken[:0]
}

// crashNote puts a recovered panic on the timeline: what panicked, then
// where and the crash log.
func (m *Model) crashNote(note string) {
	head, rest, _ := strings.Cut(note, "\n")
	m.addNote(m.now(), noteBad, head)
	m.addNote(m.now(), noteMuted, rest)
}

// reset gives a part the state it has before any event, so that the next
// events draw it afresh.
func (m *Model) reset(part string) {
	switch part {
	case partScreen:
		for _, p := range []string{partBuild, partProbes, partVersions, partDiff, partLastDiff, partKeys} {
			m.reset(p)
		}
	case partBuild:
		var zero Model
		m.build, m.change = zero.build, zero.change
	case partProbes:
		m.probes = nil
	case partRequests:
		m.reqs.reset()
		m.filtering, m.query = false, ""
		m.filter.Blur()
		m.filter.SetValue("")
	case partTimeline:
		m.timeline.reset()
	case partVersions:
		m.versions = versionList{}
		if m.view == viewVersions {
			m.view = viewMain
		}
	case partDiff:
		m.diff = diffView{}
		if m.view == viewDiff {
			m.view = viewMain
		}
	case partLastDiff:
		m.lastDiff = diffView{}
	case partKeys:
		m.showHelp, m.filtering = false, false
		m.filter.Blur()
	}
}

// updatePanic handles a panic in Update for msg: m is the model before msg
// (update works on a copy), so the message is dropped; the part it most
// likely broke is reset. The stream's command is re-armed, or the screen
// would stop hearing of anything.
func (m Model) updatePanic(msg tea.Msg, value any, stack []byte) (tea.Model, tea.Cmd) {
	part, where := m.partOf(msg)
	m.reset(part)
	m.crashNote(m.guard.record(part, where, value, stack, fmt.Sprintf("message: %T", msg)))
	if m.guard.gaveUp {
		return m, tea.Quit
	}
	if _, ok := msg.(RecordsMsg); ok {
		return m, m.waitRecords()
	}
	return m, nil
}

// partOf guesses which part a message that made Update panic broke, and
// names the step for the crash log.
func (m *Model) partOf(msg tea.Msg) (part, where string) {
	switch msg := msg.(type) {
	case diffMsg:
		if msg.last {
			return partLastDiff, "taking a diff"
		}
		return partDiff, "taking a diff"
	case tea.KeyPressMsg, tea.MouseWheelMsg:
		where = fmt.Sprintf("handling the key %v", msg)
		k := &m.keys
		if msg, ok := msg.(tea.KeyPressMsg); ok && !m.filtering &&
			key.Matches(msg, k.Rebuild, k.Restart, k.Rollback, k.Forward, k.Activate) {
			// Keys that only call the controller: no part of the
			// screen is to blame.
			return "", where
		}
		switch {
		case m.view == viewVersions:
			return partVersions, where
		case m.view == viewDiff:
			return partDiff, where
		case m.filtering, m.focus == focusRequests:
			return partRequests, where
		}
		return partTimeline, where
	}
	return partScreen, fmt.Sprintf("handling a %T", msg)
}

// applyPanic handles a panic in folding one record into the model: the
// record is skipped, the part it feeds reset, and the record itself goes in
// the crash log, as the JSON line that reproduces it.
func (m *Model) applyPanic(r event.Record, value any, stack []byte) {
	part := partOfEvent(r.Event)
	name, detail := describe(r)
	m.reset(part)
	m.crashNote(m.guard.record(part, "handling a "+name+" event, which it skipped", value, stack, detail))
}

// describe names a record's event and gives its JSON form, for a crash log.
// The event is the one that just made the screen panic: describing it may
// panic too.
func describe(r event.Record) (name, detail string) {
	name, detail = fmt.Sprintf("%T", r.Event), "event: (no JSON form)"
	defer func() { recover() }()
	name = r.Event.Name()
	if b, err := event.MarshalRecord(r); err == nil {
		detail = "event: " + string(b)
	}
	return name, detail
}

// partOfEvent is the part an event feeds, "" for none of its own (the
// timeline and the header, which a reset would empty of what matters).
func partOfEvent(e event.Event) string {
	switch e.(type) {
	case event.Probe:
		return partProbes
	case event.Versions:
		return partVersions
	case event.Diff:
		return partLastDiff
	case event.Request, event.Unit:
		return partRequests
	case event.Change, event.BuildStart, event.BuildOK, event.BuildFail, event.BuildCanceled:
		return partBuild
	}
	return ""
}

// section draws one part of the screen into out, rows rows of it. A panic
// in draw is recovered: the part is drawn as one line that says so, and
// stays so until Update has reset it.
func (m *Model) section(out []string, part string, rows int, draw func([]string) []string) (res []string) {
	if rows <= 0 {
		return out
	}
	n := len(out)
	if m.guard.isBroken(part) {
		return fill(append(out, m.brokenLine(part)), rows-1)
	}
	defer func() {
		if v := recover(); v != nil {
			m.guard.viewPanic(part, v, debug.Stack(), m.stateOf(part))
			res = fill(append(out[:n], m.brokenLine(part)), rows-1)
		}
	}()
	if m.drawHook != nil {
		m.drawHook(part)
	}
	return draw(out)
}

// stateOf is what a crash log says of the state a part drew from: the
// screen's size and, for the parts drawn from events, those events as JSON
// lines, which reproduce it.
func (m *Model) stateOf(part string) (s string) {
	s = fmt.Sprintf("screen: %d×%d", m.width, m.height)
	defer func() { recover() }() // the state just made the screen panic
	var evs []event.Event
	if part == partProbes || part == partScreen {
		for _, r := range m.probes {
			evs = append(evs, r.p)
		}
	}
	if part == partVersions || part == partScreen {
		l := &m.versions
		evs = append(evs, event.Versions{Versions: l.rows, Forgotten: l.gone, DiskBytes: l.disk})
	}
	for _, e := range evs {
		if b, err := event.MarshalRecord(event.Record{Time: m.now(), Event: e}); err == nil {
			s += "\n" + string(b)
		}
	}
	return s
}

// brokenLine stands in for a part whose drawing panicked. It uses no style:
// a style is code that could fail too.
func (m *Model) brokenLine(part string) string {
	s := " ✗ the " + part + " failed to draw and is being reset"
	if m.guard.last != "" {
		s += "; stack in " + relPath(m.guard.last)
	}
	return s
}

// safeRender is render with a panic outside any one part recovered: the
// screen is then a line that says so, until Update has reset the parts.
func (m *Model) safeRender() (s string) {
	if m.guard.gaveUp {
		return "hotrun's screen kept failing: it gives way to plain lines"
	}
	if !m.guard.isBroken(partScreen) {
		defer func() {
			if v := recover(); v != nil {
				m.guard.viewPanic(partScreen, v, debug.Stack(), m.stateOf(partScreen))
				s = m.brokenScreen()
			}
		}()
		return m.render()
	}
	return m.brokenScreen()
}

func (m *Model) brokenScreen() string {
	return ansi.Truncate(m.brokenLine(partScreen), max(0, m.width), "") + strings.Repeat("\n", max(0, m.height-1))
}

// WriteCrash writes the log of a panic that one of hotrun's views
// recovered: where it happened, the value, detail (what it was handling,
// when known), hotrun's and Go's versions and the stack. The file is
// crash-<time>.log in dir, which is created when missing; the newest
// crashLogsKept of them are kept. It returns the file's path.
//
// cmd/hotrun passes the project's .hotrun, and calls it for the headless
// printers too.
func WriteCrash(dir, where string, value any, stack []byte, detail string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("tui: crash log: %w", err)
	}
	now := time.Now()
	var b strings.Builder
	fmt.Fprintf(&b, "hotrun recovered from a panic in %s, at %s, and went on.\n", where, now.Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "Please report it with this file: it is a bug in hotrun.\n\n")
	version := "(unknown)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
	}
	fmt.Fprintf(&b, "hotrun %s, %s %s/%s\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "panic: %v\n", value)
	if detail != "" {
		fmt.Fprintf(&b, "%s\n", detail)
	}
	fmt.Fprintf(&b, "\n%s", stack)
	base := "crash-" + now.Format("20060102-150405.000")
	for i := 1; ; i++ {
		name := base + ".log"
		if i > 1 {
			name = fmt.Sprintf("%s-%d.log", base, i)
		}
		path := filepath.Join(dir, name)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) && i < 100 {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("tui: crash log: %w", err)
		}
		_, err = f.WriteString(b.String())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("tui: crash log %s: %w", path, err)
		}
		pruneCrashLogs(dir)
		return path, nil
	}
}

// pruneCrashLogs removes all but the newest crashLogsKept crash logs in
// dir. Their names sort by time.
func pruneCrashLogs(dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "crash-*.log"))
	if len(logs) <= crashLogsKept {
		return
	}
	slices.Sort(logs)
	for _, p := range logs[:len(logs)-crashLogsKept] {
		os.Remove(p)
	}
}
