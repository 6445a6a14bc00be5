package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hotrun-dev/hotrun/event"
)

// layout is where each part of the screen goes, in rows. View draws with it
// and the mouse wheel uses it to find the pane under the pointer. The key
// help, the lab pane and the probe pane are as tall as their text: layout
// draws them to measure them, and View draws what it drew.
type layout struct {
	diag    int // rows for the diagnostics under the build line
	lab     int // rows for the lab pane (hotrun lab), its title included
	probes  int // rows for the probes' answers (under their title); 0: no pane
	reqTop  int // row of the request log's title
	reqBody int
	tlTop   int // row of the timeline's title
	tlBody  int
	footer  int      // rows of the key help
	keys    string   // the key help, as drawn
	labText []string // the lab pane, all shown; nil without a lab
	// probeText is every row of the probes' answers, nil without any;
	// the probe pane shows the first of them.
	probeText []string
}

// diskWarn is the size of .hotrun from which the header shows it.
const diskWarn = 1 << 30

// headerRows: two header lines and the build line.
const headerRows = 3

func (m *Model) layout() layout {
	var l layout
	l.keys = m.footer()
	l.footer = strings.Count(l.keys, "\n") + 1
	rest := max(0, m.height-headerRows-l.footer)
	if n := m.diagRows(); n > 0 {
		// Diagnostics get up to half of what is left, but the panes keep
		// at least a title and a line each.
		l.diag = min(n, max(1, (rest-4)/2))
	}
	rest = max(0, rest-l.diag)
	if m.lab.Lab != "" {
		// The lab pane: what to do and what it taught, worth all but
		// a few lines of the panes below.
		l.labText = m.labLines(m.width)
		l.lab = min(len(l.labText), max(2, rest-8))
		rest -= l.lab
	}
	l.probeText = m.probeLines(m.width)
	if n := len(l.probeText); n > 0 && rest >= 8 {
		// The probes' answers: what the live version says, worth a
		// quarter of the room at most.
		l.probes = min(n, max(1, rest/4))
		rest -= 1 + l.probes
	}
	bodies := max(0, rest-2)
	l.tlBody = max(min(bodies, 1), bodies/3)
	l.reqBody = bodies - l.tlBody
	l.reqTop = headerRows + l.diag + l.lab
	if l.probes > 0 {
		l.reqTop += 1 + l.probes
	}
	l.tlTop = l.reqTop + 1 + l.reqBody
	return l
}

// View draws the screen.
func (m Model) View() tea.View {
	v := tea.NewView(m.safeRender())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "hotrun"
	if m.project != "" {
		v.WindowTitle += " · " + m.project
	}
	return v
}

// render returns exactly height lines, none wider than width, so the
// terminal never wraps or scrolls the screen.
func (m *Model) render() string {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return ""
	}
	lay := m.layout()
	lines := make([]string, 0, h+8)
	// Each part is drawn as a section: a panic in one is recovered and
	// that part alone shows a line that says so (crash.go).
	lines = m.section(lines, partHeader, 2, func(out []string) []string {
		return append(out, m.headerLine(w), m.liveLine())
	})
	lines = m.section(lines, partBuild, 1+lay.diag, func(out []string) []string {
		return append(append(out, m.buildLine()), m.diagLines(lay.diag)...)
	})
	lines = m.section(lines, partLab, lay.lab, func(out []string) []string {
		return append(out, cut(lay.labText, lay.lab)...)
	})
	body := max(0, h-len(lines)-lay.footer)
	switch {
	case m.view == viewVersions:
		lines = m.section(lines, partVersions, body, func(out []string) []string { return m.versionLines(out, w, body) })
	case m.view == viewDiff:
		lines = m.section(lines, partDiff, body, func(out []string) []string { return m.diffLines(out, &m.diff, w, body, true) })
	case m.big:
		lines = m.bigLines(lines, w, body, lay.probeText)
	default:
		if lay.probes > 0 {
			lines = m.section(lines, partProbes, 1+lay.probes, func(out []string) []string {
				out = append(out, m.paneTitle(w, "probes", false, ""))
				return append(out, lay.probeText[:lay.probes]...)
			})
		}
		lines = m.section(lines, partRequests, 1+lay.reqBody, func(out []string) []string {
			return m.reqLines(append(out, m.reqTitle(w)), w, lay.reqBody)
		})
		lines = m.section(lines, partTimeline, 1+lay.tlBody, func(out []string) []string {
			out = append(out, m.paneTitle(w, "timeline", m.focus == focusTimeline, m.timelineExtra()))
			return m.noteLines(out, lay.tlBody)
		})
	}
	lines = m.section(lines, partKeys, lay.footer, func(out []string) []string {
		return append(out, strings.Split(lay.keys, "\n")...)
	})

	if len(lines) > h {
		lines = lines[:h]
	}
	var b strings.Builder
	for i, line := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		if ansi.StringWidth(line) > w {
			line = ansi.Truncate(line, w, "…")
		}
		b.WriteString(line)
	}
	for i := len(lines); i < h; i++ {
		b.WriteByte('\n')
	}
	return b.String()
}

func (m *Model) headerLine(w int) string {
	st := m.st
	right := m.engineText()
	left := " " + st.title.Render("hotrun")
	if m.project != "" {
		room := w - ansi.StringWidth(left) - ansi.StringWidth(right) - 4
		left += "  " + st.project.Render(ansi.Truncate(m.project, max(room, 1), "…"))
	}
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right) - 1
	return left + strings.Repeat(" ", max(gap, 1)) + right
}

// engineText is the header's right side: the engine that serves, as the
// supervisor's engines snapshot says, and the next one while it starts.
func (m *Model) engineText() string {
	st, es := m.st, &m.engines
	s := st.label.Render("engine ")
	pid := func(n int) string {
		if n == 0 {
			return ""
		}
		return st.label.Render(" · pid ") + st.value.Render(strconv.Itoa(n))
	}
	srv, serving := es.Serving()
	var next *event.EngineInfo // an engine readied beside it, or instead of none
	for i := range es.Engines {
		if e := &es.Engines[i]; e.State == event.EngineStarting || e.State == event.EngineStandby {
			next = e
		}
	}
	switch {
	case serving:
		switch srv.State {
		case event.EngineUnresponsive:
			s += st.warn.Render("not answering")
		case event.EngineDraining:
			s += st.warn.Render("handing over")
		default:
			s += st.good.Render("running")
		}
		s += pid(srv.PID)
		if next != nil {
			s += st.label.Render(" · next")
			if next.PID != 0 {
				s += st.label.Render(" pid ") + st.value.Render(strconv.Itoa(next.PID))
			}
			s += st.warn.Render(" starting…")
		}
		return s
	case next != nil:
		return s + st.warn.Render("starting…") + pid(next.PID)
	case es.Ended != nil:
		how := fmt.Sprintf("code %d", es.Ended.Code)
		if es.Ended.Signal != "" {
			how = "signal " + es.Ended.Signal
		}
		return s + st.bad.Render("exited") + st.label.Render(" ("+how+")")
	}
	return s + st.warn.Render("starting…")
}

// liveLine is the header's second line: what serves and since when, the
// versions the serving engine holds, its memory; while none serves, what
// served last and how it ended.
func (m *Model) liveLine() string {
	st, es := m.st, &m.engines
	var parts []string
	if srv, ok := es.Serving(); ok {
		switch {
		case srv.Live == 0:
			parts = append(parts, st.muted.Render("no version live yet"))
		default:
			s := st.value.Render(fmt.Sprintf("v%d", srv.Live)) + " live"
			if m.big {
				// The presenter layout's headline: what serves now.
				s = st.good.Render("● ") + st.good.Bold(true).Render(fmt.Sprintf("v%d live", srv.Live))
			}
			if !srv.Since.IsZero() {
				s += " since " + srv.Since.Format("15:04:05")
			}
			if len(srv.Loaded) > 0 && srv.Live < slices.Max(srv.Loaded) {
				// A newer version it holds was switched away from (b, or
				// l in the version list).
				s += st.warn.Render(" (switched)")
			}
			parts = append(parts, s)
		}
		parts = append(parts, plural(len(srv.Loaded), "version")+" loaded")
		if m.mem.PID == srv.PID && m.mem.RSSBytes > 0 {
			parts = append(parts, fmt.Sprintf("%.1f MB RSS", float64(m.mem.RSSBytes)/(1<<20)))
		}
	} else {
		// While none serves, nothing is live, and what the last engine
		// held went with it.
		if es.WasLive != 0 {
			parts = append(parts, st.muted.Render(fmt.Sprintf("v%d was live", es.WasLive)))
		} else {
			parts = append(parts, st.muted.Render("no version live yet"))
		}
		if es.GaveUp != "" {
			parts = append(parts, st.bad.Render("not started again until a change or R"))
		}
		if es.Ended != nil && es.Ended.Reason != "" {
			parts = append(parts, st.warn.Render(es.Ended.Reason))
		}
	}
	if d := m.versions.disk; d >= diskWarn {
		// Shown once it is worth a thought: the supervisor removes what
		// no engine and no rollback can reach.
		parts = append(parts, st.warn.Render(".hotrun "+megabytes(d)))
	}
	if !m.savedAt.IsZero() {
		parts = append(parts, st.label.Render("state saved "+m.savedAt.Format("15:04:05")))
	}
	return " " + strings.Join(parts, st.label.Render(" · "))
}

func (m *Model) buildLine() string {
	st, b := m.st, &m.build
	s := " " + st.label.Render("build ") + " "
	what := event.TargetLabel(b.target, b.version)
	switch b.phase {
	case buildIdle:
		return s + st.muted.Render("idle · waiting for changes")
	case buildRunning:
		el := max(0, m.now().Sub(b.started))
		sp := buildSpinner()
		frame := sp.Frames[int(el/sp.FPS)%len(sp.Frames)]
		return s + st.spinner.Render(frame) + " building " + st.value.Render(what) + st.label.Render(fmt.Sprintf(" · %.1fs", el.Seconds()))
	case buildOK:
		return s + st.good.Render("✓ ") + st.value.Render(what) + st.good.Render(" built") + st.label.Render(" in "+b.took.String())
	case buildCanceled:
		return s + st.muted.Render("– "+what+" canceled, a newer change made it stale")
	}
	s += st.bad.Render("✗ ") + st.value.Render(what) + st.bad.Render(" failed") + st.label.Render(" after "+b.took.String())
	if n := len(b.diags); n > 0 {
		s += st.label.Render(" · ") + st.bad.Render(plural(n, "error"))
	}
	return s
}

// diagRows is how many rows the diagnostics would take, all shown.
func (m *Model) diagRows() int {
	b := &m.build
	if len(b.diags) == 0 {
		if b.phase == buildFailed && b.err != "" {
			return min(5, strings.Count(strings.TrimSpace(b.err), "\n")+1)
		}
		return 0
	}
	n := 0
	for _, d := range b.diags {
		n++
		if d.Source != "" {
			n++
		}
	}
	if b.phase != buildFailed {
		n++ // "still failing" note above the list
	}
	return n
}

// diagLines draws the last failure's diagnostics in rows lines: file:line:col
// and the message, then the source line it points at.
func (m *Model) diagLines(rows int) []string {
	if rows <= 0 {
		return nil
	}
	st, b := m.st, &m.build
	var out []string
	if len(b.diags) == 0 {
		for _, line := range strings.Split(strings.TrimSpace(b.err), "\n") {
			out = append(out, "   "+st.diagMsg.Render(clean(line)))
		}
	} else {
		if b.phase != buildFailed {
			out = append(out, "   "+st.muted.Render(fmt.Sprintf("v%d's errors, until a build succeeds:", b.failedV)))
		}
		for _, d := range b.diags {
			pos := clean(d.File)
			if d.Line > 0 {
				pos += ":" + strconv.Itoa(d.Line)
				if d.Col > 0 {
					pos += ":" + strconv.Itoa(d.Col)
				}
			}
			out = append(out, "   "+st.diagPos.Render(pos)+": "+st.diagMsg.Render(clean(strings.ReplaceAll(d.Msg, "\n", "; "))))
			if d.Source != "" {
				out = append(out, st.diagCode.Render(fmt.Sprintf("%7d │ ", d.Line)+strings.TrimSpace(clean(d.Source))))
			}
		}
	}
	if len(out) > rows && rows == 1 {
		// No room to say how many more: the build line counts them.
		out = out[:1]
	}
	if len(out) > rows {
		more := len(out) - rows + 1
		out = append(out[:rows-1], "   "+st.muted.Render(fmt.Sprintf("… %d more lines", more)))
	}
	return out
}

func (m *Model) paneTitle(w int, name string, focused bool, extra string) string {
	st := m.st
	ts := st.paneTitle
	mark := "  "
	if focused {
		ts, mark = st.paneTitleFocus, "▸ "
	}
	s := ts.Render(mark+name) + extra + " "
	return s + st.rule.Render(strings.Repeat("─", max(0, w-ansi.StringWidth(s))))
}

func (m *Model) reqTitle(w int) string {
	st, p := m.st, &m.reqs
	extra := st.label.Render(" · " + strconv.FormatUint(p.lines.total, 10))
	switch {
	case m.filtering:
		extra += "  " + m.filter.View()
	case m.query != "":
		extra += st.label.Render(" · filter ") + st.info.Render("/"+clean(m.query))
	}
	extra += m.scrollState(p.paused, p.follow, p.newer())
	return m.paneTitle(w, "requests", m.focus == focusRequests, extra)
}

func (m *Model) timelineExtra() string {
	p := &m.timeline
	return m.scrollState(p.paused, p.follow, p.newer())
}

func (m *Model) scrollState(paused, follow bool, newer uint64) string {
	st := m.st
	switch {
	case paused:
		return st.warn.Render(fmt.Sprintf(" · paused, %d new", newer))
	case !follow:
		return st.warn.Render(fmt.Sprintf(" · scrolled, %d below (G)", newer))
	}
	return ""
}

// reqLines draws the visible part of the request log:
//
//	15:04:05.000 GET    /api/items/42               200    1.2ms v3
func (m *Model) reqLines(out []string, w, h int) []string {
	if h <= 0 {
		return out
	}
	st := m.st
	var seqs [64]uint64
	vis := m.reqs.visible(h, m.match(), seqs[:0])
	if len(vis) == 0 {
		msg := "no requests yet"
		if m.query != "" {
			msg = "no request matches /" + m.query
		}
		out = append(out, "  "+st.muted.Render(msg))
		h--
	}
	// Below 60 columns the path needs the room more than the time does.
	showTime := w >= 60
	fixed := 7 + 1 + 1 + 3 + 1 + 8 + 1 + 4
	if showTime {
		fixed += 12 + 1
	}
	pathW := max(8, w-fixed-1)
	for _, seq := range vis {
		l := m.reqs.lines.at(seq)
		r := &l.r
		// The engine's text, drawn only when on screen: cleaned here.
		path := clean(r.Path)
		if ansi.StringWidth(path) > pathW {
			path = ansi.Truncate(path, pathW, "…")
		}
		line := ""
		if showTime {
			line = st.muted.Render(l.t.Format("15:04:05.000")) + " "
		}
		status := st.status(r.Status).Render(strconv.Itoa(r.Status))
		if l.unit {
			// A unit of work has no status code: it ended well or not.
			status = st.good.Render(" ok")
			if r.Status != 0 {
				status = st.bad.Render("err")
			}
		}
		line += pad(clean(r.Method), 7) + " " + pad(path, pathW) + " " + status + " " +
			st.label.Render(padLeft(took(r.Duration), 8)) + " " +
			st.muted.Render("v"+strconv.Itoa(r.Version))
		out = append(out, line)
	}
	for i := len(vis); i < h; i++ {
		out = append(out, "")
	}
	return out
}

// noteLines draws the visible part of the timeline.
func (m *Model) noteLines(out []string, h int) []string {
	if h <= 0 {
		return out
	}
	st := m.st
	var seqs [64]uint64
	vis := m.timeline.visible(h, nil, seqs[:0])
	for _, seq := range vis {
		n := m.timeline.lines.at(seq)
		mark, text := " ", n.text
		switch n.kind {
		case noteGood:
			mark = st.good.Render("✓")
		case noteBad:
			mark, text = st.bad.Render("✗"), st.bad.Render(text)
		case noteWarn:
			mark, text = st.warn.Render("!"), st.warn.Render(text)
		case noteInfo:
			mark = st.info.Render("•")
		case noteMuted:
			text = st.muted.Render(text)
		case noteEngine:
			mark = st.muted.Render("│")
		}
		out = append(out, st.muted.Render(n.t.Format("15:04:05"))+" "+mark+" "+text)
	}
	for i := len(vis); i < h; i++ {
		out = append(out, "")
	}
	return out
}

func (m *Model) footer() string {
	switch {
	case m.labCtl != nil && m.view == viewMain && !m.filtering && !m.showHelp:
		k, lk := m.keys, m.labKeys
		return " " + m.help.ShortHelpView([]key.Binding{lk.Next, lk.Edit, lk.Apply, k.Versions, k.Help, k.Quit})
	case m.view == viewVersions:
		return " " + m.help.ShortHelpView(versionKeys{m.keys}.ShortHelp())
	case m.view == viewDiff:
		return " " + m.help.ShortHelpView(diffKeys{m.keys}.ShortHelp())
	case m.filtering:
		return " " + m.help.ShortHelpView(filterKeys{m.keys}.ShortHelp())
	case m.showHelp && m.labCtl != nil:
		lk := m.labKeys
		return m.help.FullHelpView(append(m.keys.FullHelp(), []key.Binding{lk.Next, lk.Edit, lk.Apply}))
	case m.showHelp:
		return m.help.FullHelpView(m.keys.FullHelp())
	}
	return " " + m.help.ShortHelpView(m.keys.ShortHelp())
}

// took formats a request's duration. The engine reports durations over its
// control socket in JSON, rounded to 0.1 ms, so a fast request arrives as
// zero: "<0.1ms" says that better than "0s".
func took(d event.Duration) string {
	if d < event.Duration(50*time.Microsecond) {
		return "<0.1ms"
	}
	return d.String()
}

// cut keeps the first n lines, the last of them an ellipsis when lines
// were left out.
func cut(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	if n <= 1 {
		return lines[:n]
	}
	return append(lines[:n-1], "   …")
}

func pad(s string, n int) string {
	if w := ansi.StringWidth(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

func padLeft(s string, n int) string {
	if w := len(s); w < n {
		return strings.Repeat(" ", n-w) + s
	}
	return s
}
