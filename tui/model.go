package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/internal/paths"
)

// RecordsMsg carries a batch of records from the stream to the model. [Run]
// sends one per batch; tests send them directly.
type RecordsMsg []event.Record

// streamClosedMsg says the stream ended (hotrun is shutting down) or Run's
// context is done: time to quit.
type streamClosedMsg struct{}

// tickMsg redraws what depends on the clock while a build runs: its elapsed
// time and its spinner. Nothing else on the screen depends on the clock
// (times are shown as times of day), so an idle screen never wakes (#14).
// gen tells the current tick loop from a superseded one.
type tickMsg struct{ gen int }

// Panes that can take the focus.
const (
	focusRequests = iota
	focusTimeline
)

// Sizes of the rings. The request log's comes from Options.LogLines.
const (
	defaultLogLines = 5000
	timelineLines   = 1000
)

// buildSpinner returns the frames that animate a running build. The frame
// shown is derived from the clock, not from a ticking counter, so a fixed
// clock gives a fixed screen.
func buildSpinner() spinner.Spinner { return spinner.MiniDot }

// Build phases.
const (
	buildIdle = iota
	buildRunning
	buildOK
	buildFailed
	buildCanceled
)

// Model is the bubbletea model of the screen. Create it with [NewModel].
//
// The rings behind the request log and the timeline are shared by copies of a
// Model (they are pointers), as bubbletea only ever keeps the latest one.
type Model struct {
	project string
	control Controller
	now     func() time.Time
	// batches is where Run's batcher delivers records; nil when the model is
	// driven by a test, which sends RecordsMsg itself.
	batches <-chan []event.Record

	keys   keyMap
	help   help.Model
	st     *styles
	isDark bool

	width, height int

	// engines is the supervisor's engines snapshot, as last published:
	// the header's engine, its pid, the live version and the versions
	// loaded are its, never worked out here.
	engines event.Engines
	mem     event.Memory // the serving engine's memory, as last reported; its PID says whose
	// savedAt is when the engine last wrote its state snapshot; zero
	// until it has. The snapshot outlives the engine that wrote it.
	savedAt time.Time

	build struct {
		phase   int
		version int
		target  string
		started time.Time
		took    event.Duration
		err     string
		diags   []event.Diagnostic // the last failure's, with the builder's source lines; kept until a good build
		failedV int                // the version the diagnostics belong to
	}

	versions versionList // the supervisor's list, as last published
	// change is the timeline's last "change:" line while its counts of
	// lines are unknown: the supervisor counts them when it builds the
	// version (VersionInfo.Files), after the change is published.
	change struct {
		seq     uint64       // the line's sequence number in the timeline
		c       event.Change // the change, to summarise again with counts
		version int          // the version built from it; 0 until its build starts
		open    bool         // the line waits for counts
	}
	probes []probeRow // the last answer of each probe, in the order first seen
	// view is what fills the screen below the build line: the panes, the
	// version list or a diff.
	view     int
	diff     diffView // the diff view's diff
	lastDiff diffView // the last change's diff, for the presenter layout
	big      bool

	reqs      pane[reqLine]
	timeline  pane[note]
	focus     int
	filter    textinput.Model
	filtering bool // the filter input has the keyboard
	query     string
	showHelp  bool
	tickGen   int // generation of the running tick loop

	// lab is where the lab stands, as its guide last said (hotrun lab);
	// zero without one. labCtl takes the lab pane's keys.
	lab     event.Lab
	labCtl  LabControl
	labKeys labKeys

	guard *guard // the screen's own panics: recovered, logged, given up on
	// drawHook, when set, is called before each part of the screen is
	// drawn: tests make a part panic with it.
	drawHook func(part string)
}

// reqLine is one request in the log, or one unit of work that is not a
// request (unit set; r.Path holds its name, r.Status 0 or 500 for an error).
type reqLine struct {
	t    time.Time
	r    event.Request
	unit bool
}

// Kinds of timeline notes, which decide their mark and colour.
const (
	noteInfo = iota
	noteGood
	noteWarn
	noteBad
	noteMuted
	noteEngine // a line of the engine's own output
)

// note is one line of the timeline.
type note struct {
	t    time.Time
	kind int
	text string
}

// NewModel returns the model that Run shows, for tests.
func NewModel(opts Options) Model {
	size := opts.LogLines
	if size <= 0 {
		size = defaultLogLines
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "path, method, status or v3"
	ti.CharLimit = 200
	st := newStyles(true)
	h := help.New()
	h.Styles = st.help
	keys := newKeyMap()
	if opts.Lab != nil {
		// p is the lab's step before: a pane pauses with P.
		keys.Pause = key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "pause pane"))
	}
	return Model{
		project:  clean(opts.Project),
		control:  opts.Control,
		now:      now,
		keys:     keys,
		labCtl:   opts.Lab,
		labKeys:  newLabKeys(),
		help:     h,
		st:       &st,
		isDark:   true,
		width:    80,
		height:   24,
		reqs:     newPane[reqLine](size),
		timeline: newPane[note](timelineLines),
		filter:   ti,
		big:      opts.Big,
		guard:    newGuard(opts.CrashDir, now),
	}
}

// Init starts the clock, asks the terminal for its background colour and
// starts waiting for records, and for View's calls for a repair.
func (m Model) Init() tea.Cmd {
	return tea.Batch(m.waitRecords(), m.tick(), tea.RequestBackgroundColor, m.waitRepair())
}

// waitRecords is the re-armed command of bubbletea's examples/realtime: it
// waits for the next batch and is started again after each one, so exactly one
// goroutine of bubbletea's waits on the batcher at a time.
func (m Model) waitRecords() tea.Cmd {
	ch := m.batches
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		b, ok := <-ch
		if !ok {
			return streamClosedMsg{}
		}
		return RecordsMsg(b)
	}
}

// tick redraws the build's spinner and elapsed time while a build runs;
// otherwise there is nothing to tick for.
func (m Model) tick() tea.Cmd {
	if m.build.phase != buildRunning {
		return nil
	}
	gen := m.tickGen
	return tea.Tick(buildSpinner().FPS, func(time.Time) tea.Msg { return tickMsg{gen} })
}

// Update applies one message. A panic in doing so is recovered here, so
// bubbletea, which would end the program on it, never sees it: the message
// is dropped (a record alone, from a batch), the part of the screen it
// fed is reset, a crash log is written and the timeline says so. When
// panics keep coming, the screen quits and [Run] returns [ErrCrashed].
func (m Model) Update(msg tea.Msg) (next tea.Model, cmd tea.Cmd) {
	if m.guard.gaveUp {
		return m, tea.Quit
	}
	// Parts that View found broken are reset before anything else: the
	// message may need them.
	m.repair()
	defer func() {
		if v := recover(); v != nil {
			next, cmd = m.updatePanic(msg, v, debug.Stack())
		}
	}()
	next, cmd = m.update(msg)
	if m.guard.gaveUp {
		return next, tea.Quit
	}
	return next, cmd
}

func (m Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case RecordsMsg:
		was, live := m.build.phase, m.liveVersion()
		for _, r := range msg {
			m.applySafe(r)
		}
		cmds := []tea.Cmd{m.waitRecords()}
		if was != buildRunning && m.build.phase == buildRunning {
			// Start the spinner's tick loop; any old one ends.
			m.tickGen++
			cmds = append(cmds, m.tick())
		}
		if now := m.liveVersion(); m.big && now != live && now != 0 {
			// The presenter layout shows what the new live version
			// changed.
			cmds = append(cmds, m.fetchDiff(&m.lastDiff, m.before(now), now))
		}
		return m, tea.Batch(cmds...)
	case diffMsg:
		m.gotDiff(msg)
		return m, nil
	case repairMsg:
		// Update has reset the parts already.
		return m, m.waitRepair()
	case cmdPanicMsg:
		m.reset(msg.part)
		m.crashNote(m.guard.record(msg.part, msg.where, msg.value, msg.stack, ""))
		return m, nil
	case editorDoneMsg:
		if msg.err != nil {
			m.addNote(m.now(), noteWarn, "lab: the editor: "+msg.err.Error())
		}
		return m, nil
	case streamClosedMsg:
		return m, tea.Quit
	case tickMsg:
		if msg.gen != m.tickGen {
			return m, nil
		}
		return m, m.tick()
	case tea.WindowSizeMsg:
		if msg.Width <= 0 || msg.Height <= 0 {
			// Size unknown (output is not a terminal): keep 80×24.
			return m, nil
		}
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.filter.SetWidth(max(10, msg.Width-40))
		return m, nil
	case tea.BackgroundColorMsg:
		m.isDark = msg.IsDark()
		st := newStyles(m.isDark)
		m.st = &st
		m.help.Styles = st.help
		return m, nil
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.MouseWheelMsg:
		m.wheel(msg)
		return m, nil
	}
	if m.filtering {
		// The text input's own messages, such as its cursor blink.
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m Model) key(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k := &m.keys
	if m.filtering {
		switch {
		case key.Matches(msg, k.Accept):
			m.filtering = false
			m.filter.Blur()
		case key.Matches(msg, k.Cancel):
			m.filtering = false
			m.filter.Blur()
			m.filter.SetValue("")
		case msg.String() == "ctrl+c":
			return m, tea.Quit
		default:
			var cmd tea.Cmd
			m.filter, cmd = m.filter.Update(msg)
			m.setQuery(m.filter.Value())
			return m, cmd
		}
		m.setQuery(m.filter.Value())
		return m, nil
	}

	switch m.view {
	case viewVersions:
		return m.versionsKey(msg)
	case viewDiff:
		return m.diffKey(msg)
	}
	if cmd, ok := m.labKey(msg); ok {
		return m, cmd
	}
	lay := m.layout()
	p, h := m.focused(lay)
	switch {
	case key.Matches(msg, k.Versions):
		m.openVersions()
	case key.Matches(msg, k.Diff):
		live := m.liveVersion()
		if live == 0 {
			m.addNote(m.now(), noteMuted, "no version live yet: nothing to diff")
			break
		}
		return m, m.showDiff(m.before(live), live)
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Help):
		m.showHelp = !m.showHelp
	case key.Matches(msg, k.Rebuild):
		m.ask("rebuild requested", Controller.Rebuild)
	case key.Matches(msg, k.Restart):
		m.ask("engine restart requested", Controller.Restart)
	case key.Matches(msg, k.Rollback):
		m.ask("rollback requested", Controller.Rollback)
	case key.Matches(msg, k.Forward):
		m.ask("forward requested", Controller.Forward)
	case key.Matches(msg, k.Focus):
		m.focus = 1 - m.focus
	case key.Matches(msg, k.Filter):
		m.focus = focusRequests
		m.filtering = true
		return m, m.filter.Focus()
	case key.Matches(msg, k.Clear):
		p.reset()
	case key.Matches(msg, k.Pause):
		p.togglePause()
	case key.Matches(msg, k.Up):
		p.up(1, h)
	case key.Matches(msg, k.Down):
		p.down(1)
	case key.Matches(msg, k.PageUp):
		p.up(max(1, h-1), h)
	case key.Matches(msg, k.PageDown):
		p.down(max(1, h-1))
	case key.Matches(msg, k.Home):
		p.home(h)
	case key.Matches(msg, k.End):
		p.end()
	}
	return m, nil
}

// scroller is what the scroll keys act on, whichever pane has the focus.
type scroller interface {
	up(n, h int)
	down(n int)
	home(h int)
	end()
	togglePause()
	reset()
}

// paneOf binds a pane to its filter, so the keys can treat both panes alike.
type paneOf[T any] struct {
	p     *pane[T]
	match matchFunc[T]
}

func (b paneOf[T]) up(n, h int)  { b.p.up(n, h, b.match) }
func (b paneOf[T]) down(n int)   { b.p.down(n, b.match) }
func (b paneOf[T]) home(h int)   { b.p.home(h, b.match) }
func (b paneOf[T]) end()         { b.p.end() }
func (b paneOf[T]) togglePause() { b.p.togglePause() }
func (b paneOf[T]) reset()       { b.p.reset() }

func (m *Model) focused(lay layout) (scroller, int) {
	if m.focus == focusTimeline {
		return paneOf[note]{&m.timeline, nil}, lay.tlBody
	}
	return paneOf[reqLine]{&m.reqs, m.match()}, lay.reqBody
}

// wheel scrolls the pane under the mouse pointer.
func (m *Model) wheel(msg tea.MouseWheelMsg) {
	const lines = 3
	d := lines
	if msg.Button == tea.MouseWheelUp {
		d = -lines
	}
	switch m.view {
	case viewDiff:
		m.diff.top = max(0, min(m.diff.top+d, len(m.diff.lines)-max(1, m.bodyRows()-1)))
		return
	case viewVersions:
		m.versions.move(d / lines)
		return
	}
	lay := m.layout()
	var p scroller = paneOf[reqLine]{&m.reqs, m.match()}
	h := lay.reqBody
	if msg.Y >= lay.tlTop {
		p, h = paneOf[note]{&m.timeline, nil}, lay.tlBody
	}
	switch msg.Button {
	case tea.MouseWheelUp:
		p.up(lines, h)
	case tea.MouseWheelDown:
		p.down(lines)
	}
}

// ask forwards a key to the controller and notes it in the timeline, so the
// user sees the key was taken before the events it causes arrive.
func (m *Model) ask(what string, call func(Controller)) {
	if m.control != nil {
		call(m.control)
	}
	m.addNote(m.now(), noteMuted, what)
}

// setQuery changes the request filter. The view jumps to the newest matching
// lines: the old anchor may not match any more.
func (m *Model) setQuery(q string) {
	q = strings.TrimSpace(q)
	if q != m.query {
		m.query = q
		if !m.reqs.paused {
			m.reqs.end()
		}
	}
}

// match returns the request filter, or nil when there is none.
func (m *Model) match() matchFunc[reqLine] {
	q := m.query
	if q == "" {
		return nil
	}
	return func(l *reqLine) bool { return l.matches(q) }
}

// matches reports whether q names the request: a substring of its path or
// method (any case), a prefix of its status ("5" for all 5xx), or its version
// ("v3").
func (l *reqLine) matches(q string) bool {
	if containsFold(l.r.Path, q) || containsFold(l.r.Method, q) {
		return true
	}
	if q[0] >= '0' && q[0] <= '9' {
		var buf [8]byte
		return strings.HasPrefix(string(fmt.Appendf(buf[:0], "%d", l.r.Status)), q)
	}
	if (q[0] == 'v' || q[0] == 'V') && len(q) > 1 {
		var buf [12]byte
		return string(fmt.Appendf(buf[:0], "v%d", l.r.Version)) == strings.ToLower(q)
	}
	return false
}

// containsFold is strings.Contains ignoring ASCII case, without allocating:
// it runs over every line of the log while a filter is set.
func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return true
		}
	}
	return false
}

// applySafe is apply with a panic recovered: the record is skipped and the
// part it feeds reset, and the rest of its batch goes on.
func (m *Model) applySafe(r event.Record) {
	defer func() {
		if v := recover(); v != nil {
			m.applyPanic(r, v, debug.Stack())
		}
	}()
	m.apply(r)
}

// apply folds one record into the model.
func (m *Model) apply(r event.Record) {
	t := r.Time
	switch e := r.Event.(type) {
	case event.Request:
		m.reqs.lines.push(reqLine{t: t, r: e})
	case event.Unit:
		l := reqLine{t: t, unit: true, r: event.Request{Method: "unit", Path: e.Unit, Duration: e.Duration, Version: e.Version}}
		if e.Error != "" {
			l.r.Status = 500
			l.r.Path += ": " + firstLine(e.Error)
		}
		m.reqs.lines.push(l)
	case event.Memory:
		m.mem = e
	case event.Engines:
		m.setEngines(e)
	case event.Change:
		kind := ""
		if e.Kind == event.KindHost {
			kind = " (engine: restart needed)"
		}
		m.addNote(t, noteInfo, "change: "+summarizeChange(e, 3)+kind)
		ch := &m.change
		ch.open, ch.seq, ch.c, ch.version = e.Kind == event.KindLogic && len(e.Stats) == 0, m.timeline.lines.total-1, e, 0
	case event.Ignored:
		m.addNote(t, noteMuted, fmt.Sprintf("ignored %s: %s", e.Path, e.Reason))
	case event.BuildStart:
		b := &m.build
		b.phase, b.version, b.target, b.started = buildRunning, e.Version, e.Target, t
		if ch := &m.change; ch.open && ch.version == 0 && e.Target == event.TargetLogic {
			ch.version = e.Version
		}
	case event.BuildOK:
		b := &m.build
		b.phase, b.version, b.target, b.took = buildOK, e.Version, e.Target, e.Duration
		b.diags, b.err = nil, ""
		m.addNote(t, noteGood, fmt.Sprintf("build %s ok in %s", event.TargetLabel(e.Target, e.Version), e.Duration))
	case event.BuildFail:
		b := &m.build
		b.phase, b.version, b.target, b.took = buildFailed, e.Version, e.Target, e.Duration
		b.err, b.diags, b.failedV = e.Error, e.Diagnostics, e.Version
		why := firstLine(e.Error)
		if n := len(e.Diagnostics); n > 0 {
			why = plural(n, "error") + ": " + e.Diagnostics[0].String()
		}
		m.addNote(t, noteBad, fmt.Sprintf("build %s failed: %s", event.TargetLabel(e.Target, e.Version), why))
	case event.BuildCanceled:
		if m.build.phase == buildRunning && m.build.version == e.Version && m.build.target == e.Target {
			m.build.phase = buildCanceled
		}
		m.addNote(t, noteMuted, fmt.Sprintf("build %s canceled: a newer change made it stale", event.TargetLabel(e.Target, e.Version)))
	case event.LoadOK:
		m.addNote(t, noteGood, fmt.Sprintf("v%d live (loaded in %s)", e.Version, e.Duration))
	case event.LoadFail:
		if e.Explain != "" {
			m.addNote(t, noteBad, fmt.Sprintf("v%d rejected: %s", e.Version, e.Explain))
			m.addNote(t, noteMuted, "  "+firstLine(e.Error))
		} else {
			m.addNote(t, noteBad, fmt.Sprintf("v%d rejected: %s", e.Version, firstLine(e.Error)))
		}
	case event.Rollback:
		verb := "rolled back"
		if e.To > e.From {
			verb = "switched forward"
		}
		m.addNote(t, noteWarn, fmt.Sprintf("%s v%d → v%d", verb, e.From, e.To))
	case event.EngineStart:
		m.addNote(t, noteInfo, fmt.Sprintf("engine started, pid %d", e.PID))
	case event.EngineExit:
		kind := noteBad
		switch {
		case e.Expected:
			kind = noteMuted // a handover, a restart: the lines around it say why
		case e.Code == 0 && e.Signal == "":
			kind = noteWarn
		}
		m.addNote(t, kind, "engine "+e.String())
	case event.EngineRestart:
		m.addNote(t, noteWarn, fmt.Sprintf("engine restarting (pid %d): %s", e.PID, e.Reason))
	case event.StateSaved:
		// Saved every few seconds under work and after each swap: the header says
		// when, the timeline stays for what changed.
		m.savedAt = t
	case event.StateRestored:
		if e.Error == "" {
			m.addNote(t, noteGood, fmt.Sprintf("state restored (%s)", plural(e.Bytes, "byte")))
			return
		}
		m.addNote(t, noteWarn, "state not restored (fresh state): "+firstLine(e.Error))
		if e.Kept != "" {
			m.addNote(t, noteMuted, "  snapshot kept at "+relPath(e.Kept))
		}
	case event.Versions:
		m.setVersions(e)
	case event.Probe:
		m.setProbe(t, e)
	case event.Diff:
		// Asked for on the stream (headless "d"): keep it as the last diff.
		lines := splitDiff(e.Text)
		m.lastDiff = diffView{from: e.From, to: e.To, lines: lines, heads: fileHeads(lines)}
	case event.Generate:
		// One line when it went well (a generator's chatter is for -headless);
		// its output when it failed, which the build's failure repeats.
		if e.Error == "" {
			what := ""
			if len(e.Files) > 0 {
				what = ": wrote " + event.Summarize(e.Files, 3)
			}
			m.addNote(t, noteInfo, fmt.Sprintf("%s ok in %s%s", e.Command, e.Duration, what))
			break
		}
		m.addNote(t, noteBad, fmt.Sprintf("%s failed: %s", e.Command, e.Error))
		m.addNote(t, noteMuted, e.Output)
	case event.Lab:
		if e.What == event.LabDone || e.What == event.LabComplete {
			if ex := e.Then; ex != nil {
				m.addNote(t, noteGood, fmt.Sprintf("lab %s: step %d done: %s", clean(e.Lab), ex.Step, ex.Title))
			}
		}
		m.lab = e
	case event.Blame:
		m.addNote(t, noteBad, fmt.Sprintf("v%d blamed: %s", e.Version, e.Reason))
	case event.EngineHung:
		m.addNote(t, noteWarn, fmt.Sprintf("engine pid %d not answering for %s", e.PID, e.Since))
	case event.RequestCut:
		what := clean(e.Method + " " + e.Path)
		if e.Hijacked {
			what += " (a connection its handler took over)"
		}
		m.addNote(t, noteWarn, fmt.Sprintf("cut %s after %s at the handover; its client must reconnect", what, e.Duration))
	case event.Panic:
		m.addNote(t, noteBad, fmt.Sprintf("panic in v%d recovered at %s: %s", e.Version, e.Where, e.Value))
	case event.Log:
		switch {
		case e.Source == event.SourceEngine:
			m.addNote(t, noteEngine, e.Text)
		case e.Level == "error":
			m.addNote(t, noteBad, e.Text)
		case e.Level == "warn":
			m.addNote(t, noteWarn, e.Text)
		default:
			m.addNote(t, noteInfo, e.Text)
		}
	case nil:
	default:
		m.addNote(t, noteMuted, event.Format(e))
	}
}

// addNote appends a line to the timeline, one screen line per text line, made
// safe to draw: a stray escape sequence or tab from the engine's output
// must not move the cursor.
func (m *Model) addNote(t time.Time, kind int, text string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		m.timeline.lines.push(note{t: t, kind: kind, text: clean(line)})
	}
}

// setEngines takes the supervisor's engines snapshot. The text the header
// draws is made safe once, here, on a copy (the event is the stream's).
func (m *Model) setEngines(e event.Engines) {
	if x := e.Ended; x != nil {
		ended := *x
		ended.Signal, ended.Reason = clean(ended.Signal), clean(ended.Reason)
		e.Ended = &ended
	}
	m.engines = e
}

// liveVersion is the version the serving engine answers with, as the
// supervisor last said; 0 for none.
func (m *Model) liveVersion() int {
	s, _ := m.engines.Serving()
	return s.Live
}

// clean makes text safe to draw on one line: no escape sequences, no control
// characters (C1's too: some terminals take U+009B for an escape), tabs
// expanded, and UTF-8: a stray byte of another encoding becomes U+FFFD, one
// column, as the terminal would draw it, and not a width the screen can't
// count.
func clean(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	s = ansi.Strip(strings.ToValidUTF8(s, "\uFFFD"))
	s = strings.ReplaceAll(s, "\t", "    ")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// relPath returns path relative to the current directory when it lies
// inside it, as the builder reports the user's files: the timeline is
// narrow, and the end of a path is the part that names the file.
func relPath(path string) string {
	if !filepath.IsAbs(path) {
		return path
	}
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	if rel, ok := paths.Within(wd, path); ok {
		return rel
	}
	return path
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
