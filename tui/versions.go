package tui

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hotrun-dev/hotrun/event"
)

// What fills the screen below the build line.
const (
	viewMain     = iota // probes, request log and timeline
	viewVersions        // the version list
	viewDiff            // one diff
)

// versionList is the supervisor's version list as last published, and the
// user's place in it. The screen never counts versions on its own: every
// row is the supervisor's.
type versionList struct {
	rows []event.VersionInfo // newest first
	gone int                 // older ended versions the supervisor no longer lists
	disk int64               // bytes in .hotrun
	sel  int                 // version number of the selected row; 0: the newest
	mark int                 // version number marked for "diff against"; 0: none
	top  int                 // index of the first row shown
}

// selected returns the index of the selected row, or -1 when the list is
// empty. A selected version that left the list gives way to the newest.
func (l *versionList) selected() int {
	if len(l.rows) == 0 {
		return -1
	}
	for i, r := range l.rows {
		if r.Version == l.sel {
			return i
		}
	}
	l.sel = l.rows[0].Version
	return 0
}

func (l *versionList) move(d int) {
	i := l.selected()
	if i < 0 {
		return
	}
	l.sel = l.rows[max(0, min(len(l.rows)-1, i+d))].Version
}

// find returns the row of version v.
func (l *versionList) find(v int) (event.VersionInfo, bool) {
	for _, r := range l.rows {
		if r.Version == v {
			return r, true
		}
	}
	return event.VersionInfo{}, false
}

// diffView is one diff, as fetched from the controller or read from the
// stream, and where it is scrolled to.
type diffView struct {
	from, to int
	lines    []string // the unified diff, one line each, made safe to draw
	heads    []bool   // whether each line starts a file's part
	err      string
	loading  bool
	top      int // first line shown
	ret      int // the view to return to
}

// diffMsg is a diff the controller returned; into says which diffView it
// fills.
type diffMsg struct {
	from, to int
	text     string
	err      error
	last     bool // the presenter layout's last diff, not the diff view's
}

func (m *Model) setVersions(e event.Versions) {
	// The rows' text is drawn as it is: made safe once, here, on a copy
	// (the event is the stream's).
	rows := slices.Clone(e.Versions)
	for i := range rows {
		r := &rows[i]
		r.State = clean(r.State)
		r.Files = slices.Clone(r.Files)
		for j := range r.Files {
			r.Files[j].Path = clean(r.Files[j].Path)
		}
	}
	m.versions.rows, m.versions.gone, m.versions.disk = rows, e.Forgotten, e.DiskBytes
	m.countChange()
}

// countChange adds the lines added and removed to the timeline's last
// "change:" line once the supervisor's list has them for the version built
// from it: "change: logic/main.go +2 −1".
func (m *Model) countChange() {
	ch := &m.change
	if !ch.open || ch.version == 0 {
		return
	}
	r, ok := m.versions.find(ch.version)
	if !ok || len(r.Files) == 0 {
		return
	}
	ch.open = false
	if !m.timeline.lines.has(ch.seq) {
		return
	}
	c := ch.c
	c.Stats = make([]event.FileChange, len(r.Files))
	for i, f := range r.Files {
		// The supervisor names a file by its place in the logic tree
		// ("main.go"), the watcher by its place in the project
		// ("logic/main.go"): the line keeps the watcher's names.
		for _, p := range c.Files {
			if p == f.Path || strings.HasSuffix(p, "/"+f.Path) {
				f.Path = p
				break
			}
		}
		c.Stats[i] = f
	}
	m.timeline.lines.at(ch.seq).text = clean("change: " + summarizeChange(c, 3))
}

// before returns the version before v: the next older row of the list, or
// v-1 while there is no list.
func (m *Model) before(v int) int {
	rows := m.versions.rows
	for i, r := range rows {
		if r.Version == v && i+1 < len(rows) {
			return rows[i+1].Version
		}
	}
	return v - 1
}

// fetchDiff asks the controller for a diff, off the screen's loop.
func (m *Model) fetchDiff(into *diffView, from, to int) tea.Cmd {
	ret := into.ret
	*into = diffView{from: from, to: to, loading: true, ret: ret}
	if from < 1 {
		into.loading, into.err = false, fmt.Sprintf("v%d is the first version: nothing before it to diff against", to)
		return nil
	}
	if m.control == nil {
		into.loading, into.err = false, "no diffs here: nothing to ask"
		return nil
	}
	c, last := m.control, into == &m.lastDiff
	return func() (msg tea.Msg) {
		// Off the loop, where bubbletea would end the program on a panic:
		// the loop is told instead, and records it.
		defer func() {
			if v := recover(); v != nil {
				part := partDiff
				if last {
					part = partLastDiff
				}
				msg = cmdPanicMsg{part: part, where: fmt.Sprintf("asking for the diff v%d → v%d", from, to), value: v, stack: debug.Stack()}
			}
		}()
		text, err := c.Diff(from, to)
		return diffMsg{from: from, to: to, text: text, err: err, last: last}
	}
}

func (m *Model) gotDiff(msg diffMsg) {
	d := &m.diff
	if msg.last {
		d = &m.lastDiff
	}
	if d.from != msg.from || d.to != msg.to {
		return // a diff asked for before another one: stale
	}
	d.loading = false
	if msg.err != nil {
		d.err = firstLine(msg.err.Error())
		return
	}
	d.lines = splitDiff(msg.text)
	d.heads = fileHeads(d.lines)
}

func splitDiff(text string) []string {
	return cleanLines(strings.TrimRight(text, "\n"))
}

// cleanLines splits text into lines made safe to draw; "" has none.
func cleanLines(text string) []string {
	if text == "" {
		return nil
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return lines
}

// showDiff opens the diff view on the diff from → to.
func (m *Model) showDiff(from, to int) tea.Cmd {
	m.diff.ret = m.view
	m.view = viewDiff
	return m.fetchDiff(&m.diff, from, to)
}

func (m *Model) openVersions() {
	m.view = viewVersions
	m.versions.sel = 0
	for _, r := range m.versions.rows {
		if r.State == event.VersionLive {
			m.versions.sel = r.Version
		}
	}
	m.versions.selected()
}

func (m Model) versionsKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k, l := &m.keys, &m.versions
	h := m.bodyRows()
	i := l.selected()
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Back):
		m.view = viewMain
	case key.Matches(msg, k.Up):
		l.move(-1)
	case key.Matches(msg, k.Down):
		l.move(1)
	case key.Matches(msg, k.PageUp):
		l.move(-max(1, h/2-1))
	case key.Matches(msg, k.PageDown):
		l.move(max(1, h/2-1))
	case key.Matches(msg, k.Home):
		l.move(-len(l.rows))
	case key.Matches(msg, k.End):
		l.move(len(l.rows))
	case key.Matches(msg, k.Rollback):
		m.ask("rollback requested", Controller.Rollback)
	case key.Matches(msg, k.Forward):
		m.ask("forward requested", Controller.Forward)
	case i < 0:
	case key.Matches(msg, k.Select):
		v := l.rows[i].Version
		return m, m.showDiff(m.before(v), v)
	case key.Matches(msg, k.Mark):
		if l.mark == l.sel {
			l.mark = 0
		} else {
			l.mark = l.sel
		}
	case key.Matches(msg, k.DiffMark):
		if l.mark == 0 {
			m.addNote(m.now(), noteMuted, "mark a version with m first")
			break
		}
		return m, m.showDiff(l.mark, l.sel)
	case key.Matches(msg, k.Activate):
		r := l.rows[i]
		v := r.Version
		switch r.State {
		case event.VersionLoaded, event.VersionBuilt:
			// A built version is one the serving engine doesn't hold
			// (one from before a restart): the supervisor loads it if it
			// was built for that engine, and says why not otherwise.
			m.ask(fmt.Sprintf("v%d: make live requested", v), func(c Controller) { c.Activate(v) })
		case event.VersionLive:
			m.addNote(m.now(), noteMuted, fmt.Sprintf("v%d is live already", v))
		default:
			m.addNote(m.now(), noteMuted, fmt.Sprintf("v%d can't go live: %s", v, cannotGoLive(r)))
		}
	}
	return m, nil
}

func (m Model) diffKey(msg tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	k, d := &m.keys, &m.diff
	h := max(1, m.bodyRows()-1)
	switch {
	case key.Matches(msg, k.Quit):
		return m, tea.Quit
	case key.Matches(msg, k.Back):
		m.view = d.ret
	case key.Matches(msg, k.Up):
		d.top--
	case key.Matches(msg, k.Down):
		d.top++
	case key.Matches(msg, k.PageUp):
		d.top -= max(1, h-1)
	case key.Matches(msg, k.PageDown):
		d.top += max(1, h-1)
	case key.Matches(msg, k.Home):
		d.top = 0
	case key.Matches(msg, k.End):
		d.top = len(d.lines)
	case key.Matches(msg, k.NextFile):
		for i := d.top + 1; i < len(d.lines); i++ {
			if d.heads[i] {
				d.top = i
				break
			}
		}
	case key.Matches(msg, k.PrevFile):
		for i := min(d.top, len(d.lines)) - 1; i >= 0; i-- {
			if d.heads[i] {
				d.top = i
				break
			}
		}
	}
	d.top = max(0, min(d.top, len(d.lines)-h))
	return m, nil
}

// cannotGoLive says why a version in state r.State can't be made live.
func cannotGoLive(r event.VersionInfo) string {
	switch r.State {
	case event.VersionBuilding:
		return "its build is under way"
	case event.VersionFailed:
		return "its build failed"
	case event.VersionRejected:
		return "the engine rejected it"
	case event.VersionBlamed:
		return "it took an engine down"
	case event.VersionGone:
		return "no engine holds it and its files are removed"
	}
	return "it is " + r.State
}

// fileHeads reports which lines of a diff start a file's part: its "diff"
// lines (git's form), or, in a plain unified diff (the supervisor's, which
// has none), each "---" line followed by a "+++" line.
func fileHeads(lines []string) []bool {
	heads := make([]bool, len(lines))
	git := false
	for i, l := range lines {
		if strings.HasPrefix(l, "diff ") {
			heads[i], git = true, true
		}
	}
	if git {
		return heads
	}
	for i, l := range lines {
		heads[i] = strings.HasPrefix(l, "--- ") && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "+++ ")
	}
	return heads
}

// bodyRows is how many rows the view below the build line has.
func (m *Model) bodyRows() int {
	lay := m.layout()
	return max(0, m.height-headerRows-lay.diag-lay.footer)
}

// summarizeChange lists up to n files of a change, each with its lines added
// and removed when the watcher counted them: "logic/main.go +2 −1".
func summarizeChange(c event.Change, n int) string {
	if len(c.Stats) == 0 {
		return event.Summarize(c.Files, n)
	}
	files := make([]string, len(c.Stats))
	for i, s := range c.Stats {
		files[i] = fileStat(s)
	}
	if len(c.Files) > len(files) {
		// Files the counts don't cover (not logic files): listed plain.
		seen := make(map[string]bool, len(c.Stats))
		for _, s := range c.Stats {
			seen[s.Path] = true
		}
		for _, f := range c.Files {
			if !seen[f] {
				files = append(files, f)
			}
		}
	}
	return event.Summarize(files, n)
}

func fileStat(s event.FileChange) string {
	return fmt.Sprintf("%s +%d −%d", s.Path, s.Added, s.Removed)
}

// versionLines draws the version list in h rows:
//
//	▸ v5  live      10:00:41  build 1.24s  load 2.9ms  logic/main.go +2 −1
func (m *Model) versionLines(out []string, w, h int) []string {
	st, l := m.st, &m.versions
	extra := st.label.Render(" · " + strconv.Itoa(len(l.rows)))
	if l.disk > 0 {
		extra += st.label.Render(" · .hotrun " + megabytes(l.disk))
	}
	if l.mark != 0 {
		extra += st.label.Render(fmt.Sprintf(" · marked v%d", l.mark))
	}
	out = append(out, m.paneTitle(w, "versions", true, extra))
	h--
	if h <= 0 {
		return out
	}
	if len(l.rows) == 0 {
		out = append(out, "  "+st.muted.Render("no versions yet"))
		return fill(out, h-1)
	}
	// Each row takes one line, and a second for its reason when it has
	// one. Keep the selected row in the window.
	sel := l.selected()
	rowsOf := func(r event.VersionInfo) int {
		if reason(r) != "" {
			return 2
		}
		return 1
	}
	l.top = min(l.top, sel)
	for {
		n := 0
		for i := l.top; i <= sel; i++ {
			n += rowsOf(l.rows[i])
		}
		if n <= h || l.top == sel {
			break
		}
		l.top++
	}
	n, i := 0, l.top
	for ; i < len(l.rows) && n < h; i++ {
		r := l.rows[i]
		out = append(out, m.versionRow(r, i == sel, w))
		n++
		if why := reason(r); why != "" && n < h {
			out = append(out, "          "+m.stateStyle(r.State).Render(clean(firstLine(why))))
			n++
		}
	}
	if i == len(l.rows) && l.gone > 0 && n < h {
		out = append(out, "  "+st.muted.Render(fmt.Sprintf("… and %s before, gone", plural(l.gone, "older version"))))
		n++
	}
	return fill(out, h-n)
}

func (m *Model) versionRow(r event.VersionInfo, sel bool, w int) string {
	st := m.st
	cur := "  "
	if sel {
		cur = st.paneTitleFocus.Render("▸ ")
	}
	ver := pad("v"+strconv.Itoa(r.Version), 5)
	if sel {
		ver = st.value.Render(ver)
	}
	mark := " "
	if r.Version == m.versions.mark {
		mark = st.info.Render("*")
	}
	built := "        "
	if !r.Built.IsZero() {
		built = r.Built.Format("15:04:05")
	}
	times := ""
	if r.BuildDuration > 0 {
		times += "build " + pad(r.BuildDuration.String(), 6)
	} else {
		times += strings.Repeat(" ", 12)
	}
	if r.LoadDuration > 0 {
		times += " load " + pad(took(r.LoadDuration), 6)
	} else {
		times += strings.Repeat(" ", 12)
	}
	s := cur + ver + mark + " " + m.stateStyle(r.State).Render(pad(r.State, 9)) + " " + st.muted.Render(built) + " "
	if w >= 100 {
		s += st.label.Render(times) + " "
	} else if r.BuildDuration > 0 {
		s += st.label.Render(pad(r.BuildDuration.String(), 6)) + " "
	}
	var files []string
	for _, f := range r.Files {
		files = append(files, fileStat(f))
	}
	rest := max(8, w-ansi.StringWidth(s)-1)
	fs := event.Summarize(files, 3)
	if ansi.StringWidth(fs) > rest {
		fs = ansi.Truncate(fs, rest, "…")
	}
	return s + fs
}

func (m *Model) stateStyle(state string) lipglossStyle {
	st := m.st
	switch state {
	case event.VersionLive:
		return st.good.Bold(true)
	case event.VersionLoaded:
		return st.good
	case event.VersionRejected, event.VersionFailed, event.VersionBlamed:
		return st.bad
	case event.VersionBuilding:
		return st.info
	}
	return st.muted
}

// diffLines draws d in h rows, coloured the way git diff is.
func (m *Model) diffLines(out []string, d *diffView, w, h int, title bool) []string {
	st := m.st
	if title {
		extra := ""
		if n := len(d.lines); n > 0 {
			extra = st.label.Render(fmt.Sprintf(" · %d–%d of %d", d.top+1, min(n, d.top+h-1), n))
		}
		out = append(out, m.paneTitle(w, fmt.Sprintf("diff v%d → v%d", d.from, d.to), true, extra))
		h--
	}
	if h <= 0 {
		return out
	}
	switch {
	case d.loading:
		out = append(out, "  "+st.muted.Render("asking for the diff…"))
		return fill(out, h-1)
	case d.err != "":
		out = append(out, "  "+st.bad.Render(d.err))
		return fill(out, h-1)
	case len(d.lines) == 0:
		out = append(out, "  "+st.muted.Render("no changes in the logic tree"))
		return fill(out, h-1)
	}
	top := max(0, min(d.top, len(d.lines)-1))
	n := 0
	for i := top; i < len(d.lines) && n < h; i++ {
		out = append(out, m.diffLine(d.lines[i], i < len(d.heads) && d.heads[i]))
		n++
	}
	return fill(out, h-n)
}

func (m *Model) diffLine(l string, head bool) string {
	st := m.st
	switch {
	case head:
		return st.diffFile.Render(l)
	case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"), strings.HasPrefix(l, "index "):
		return st.diffMeta.Render(l)
	case strings.HasPrefix(l, "@@"):
		return st.info.Render(l)
	case strings.HasPrefix(l, "+"):
		return st.good.Render(l)
	case strings.HasPrefix(l, "-"):
		return st.bad.Render(l)
	}
	return l
}

func fill(out []string, n int) []string {
	for range max(0, n) {
		out = append(out, "")
	}
	return out
}

func megabytes(b int64) string {
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
}

// reason is why a version stands where it does, and why it is suspect:
// the supervisor's words.
func reason(r event.VersionInfo) string {
	switch {
	case r.Suspect == "":
		return r.Why
	case r.Why == "":
		return "suspect: " + r.Suspect
	}
	return r.Why + "; suspect: " + r.Suspect
}
