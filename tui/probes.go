package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/hotrun-dev/hotrun/event"
)

// probeRow is the last answer to one probe request. Its body and the body
// before it are kept as lines made safe to draw: an answer of several lines
// (a chat room, a list) is shown line by line.
type probeRow struct {
	t    time.Time
	p    event.Probe
	body []string // the answer's lines; nil when it failed or was empty
	was  []string // the answer before's lines; nil when there is none to compare with
}

// maxProbeRows is the most rows one probe takes in the pane: a long answer
// shows its start and says how many lines are left, so the probes after it
// keep their place.
const maxProbeRows = 8

func (m *Model) setProbe(t time.Time, e event.Probe) {
	e.Request, e.Error = clean(e.Request), clean(e.Error)
	r := probeRow{t: t, p: e, body: answerLines(e.Body), was: answerLines(e.Previous)}
	// The pane shows the last answers; the timeline keeps the news: a
	// probe that failed, or answered differently from the version before.
	switch {
	case e.Error != "":
		m.addNote(t, noteWarn, fmt.Sprintf("probe %s on v%d: %s", e.Request, e.Version, e.Error))
	case e.Previous != "":
		m.addNote(t, noteInfo, fmt.Sprintf("probe %s on v%d: %d %s", e.Request, e.Version, e.Status, r.news()))
	}
	for i := range m.probes {
		if m.probes[i].p.Request == e.Request {
			m.probes[i] = r
			return
		}
	}
	m.probes = append(m.probes, r)
}

// answerLines splits an answer into lines made safe to draw; "" has none.
// A CRLF answer loses its CRs with the other control characters.
func answerLines(s string) []string {
	return cleanLines(strings.TrimRight(s, "\r\n"))
}

// news is what the timeline says of an answer that changed: its first line
// that differs from the answer before, from the word that changed, and in
// an answer of several lines, which line that is.
func (r *probeRow) news() string {
	i := 0
	for i < len(r.body) && i < len(r.was) && r.body[i] == r.was[i] {
		i++
	}
	if i == len(r.body) {
		// The answer before, with lines taken off its end.
		return fmt.Sprintf("%s, was %d", plural(len(r.body), "line"), len(r.was))
	}
	s, _ := fromChange(r.body[i], lineAt(r.was, i))
	if len(r.body) > 1 {
		s = fmt.Sprintf("line %d of %d: %s", i+1, len(r.body), s)
	}
	return s
}

func lineAt(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

// probeLines draws the probes' last answers at width w, all of them:
//
//	GET /hello?name=test  200  1.2ms  v2  version=1002, name=test
//	    was  version=1001, name=test
func (m *Model) probeLines(w int) []string {
	var out []string
	for i := range m.probes {
		out = append(out, m.probeBlock(&m.probes[i], w)...)
	}
	return out
}

// probeBlock returns the rows of one probe at width w. An answer of one
// line takes one row, with the answer before it under "was"; an answer of
// several lines gives each line a row, highlights where it differs from the
// same line of the answer before, and then shows under "was" the lines of
// the answer before that differ:
//
//	GET /show?room=a  200 1.2ms v2  chat v2
//	    [a] hi1
//	    [a] hi2
//	    was chat v1
func (m *Model) probeBlock(r *probeRow, w int) []string {
	st := m.st
	head := m.probeHead(&r.p)
	if r.p.Error != "" {
		return []string{head}
	}
	if len(r.body) <= 1 && len(r.was) <= 1 {
		return m.probeLine(head, lineAt(r.body, 0), lineAt(r.was, 0), w)
	}
	rows := make([]string, 0, len(r.body)+1)
	lead := head
	for i, l := range r.body {
		rows = append(rows, lead+m.lineChanged(l, r.was, i, w-ansi.StringWidth(lead), st.good))
		lead = "    "
	}
	lead = "    " + st.label.Render("was ")
	for i, l := range r.was {
		if i < len(r.body) && r.body[i] == l {
			continue
		}
		rows = append(rows, lead+m.lineChanged(l, r.body, i, w-ansi.StringWidth(lead), st.bad))
		lead = "        "
	}
	if len(rows) > maxProbeRows {
		more := len(rows) - maxProbeRows + 1
		rows = append(rows[:maxProbeRows-1], "    "+st.muted.Render("… "+plural(more, "more line")))
	}
	return rows
}

// probeLine is the rows of an answer of one line: the answer, and what the
// version before answered under it. When the answer is cut at the edge,
// both start at the word where they differ, so what changed is on the
// screen; with nothing to compare, a long answer goes on in a second row.
func (m *Model) probeLine(head, body, was string, w int) []string {
	st := m.st
	if ansi.StringWidth(head)+ansi.StringWidth(body) > w {
		body, was = fromChange(body, was)
		if was == "" {
			first, rest := cutWord(body, w-ansi.StringWidth(head))
			return []string{head + first, "    " + rest}
		}
	}
	rows := []string{head + m.changed(body, was, st.good)}
	if was != "" {
		rows = append(rows, "    "+st.label.Render("was ")+m.changed(was, body, st.bad))
	}
	return rows
}

// lineChanged renders line i of an answer of several lines against line i
// of the other answer: the part that differs highlighted, or all of it when
// the other has no such line. A line wider than w starts at the word where
// the two differ.
func (m *Model) lineChanged(l string, other []string, i, w int, hi lipglossStyle) string {
	switch {
	case len(other) == 0 || l == "":
		return l
	case i >= len(other) || other[i] == "":
		return hi.Bold(true).Render(l)
	}
	o := other[i]
	if ansi.StringWidth(l) > w {
		l, o = fromChange(l, o)
	}
	return m.changed(l, o, hi)
}

// probeHead is the start of a probe's line: the request, and its status,
// time and version, or its error.
func (m *Model) probeHead(p *event.Probe) string {
	st := m.st
	s := " " + st.value.Render(p.Request) + "  "
	if p.Error != "" {
		return s + st.bad.Render("✗ "+p.Error) + "  " + st.muted.Render("v"+strconv.Itoa(p.Version))
	}
	return s + st.status(p.Status).Render(strconv.Itoa(p.Status)) + " " +
		st.label.Render(took(p.Duration)) + " " + st.muted.Render("v"+strconv.Itoa(p.Version)) + "  "
}

// cutWord splits s after the last space that leaves the first part at most
// w columns wide (or at w columns, when no space does).
func cutWord(s string, w int) (string, string) {
	w = max(1, w)
	first := ansi.Truncate(s, w, "")
	if len(first) == len(s) {
		return s, ""
	}
	if i := strings.LastIndexByte(first, ' '); i > 0 {
		first = first[:i+1]
	}
	return first, s[len(first):]
}

// fromChange returns body and was from the start of the word in which they
// first differ, each after "…", when that word is not their first: an
// answer that begins with a long greeting would otherwise show the same cut
// start for every version. With nothing to compare, body is returned whole.
func fromChange(body, was string) (string, string) {
	if was == "" || body == was {
		return body, was
	}
	p := 0
	for p < len(body) && p < len(was) && body[p] == was[p] {
		p++
	}
	// Back to the start of the word: after the last space or comma
	// before the first difference (both are ASCII: a rune boundary).
	i := strings.LastIndexAny(body[:p], " ,")
	if i < 0 {
		return body, was
	}
	return "…" + body[i+1:], "…" + was[i+1:]
}

// changed renders s with the part that differs from other in style hi: the
// eye goes to what the new version answers differently.
func (m *Model) changed(s, other string, hi lipglossStyle) string {
	p, e := differs(s, other)
	if p == e {
		return s
	}
	return s[:p] + hi.Bold(true).Render(s[p:e]) + s[e:]
}

// differs returns the part of s that differs from other, s[p:e]: what is
// left of s between the start and the end the two have in common, cut on
// rune boundaries. It is empty (p == e) when there is nothing to compare
// with, when the two are the same, and when s is other with a part taken
// out.
func differs(s, other string) (p, e int) {
	if other == "" || s == other {
		return 0, 0
	}
	for p < len(s) && p < len(other) && s[p] == other[p] {
		p++
	}
	q := 0
	for q < len(s)-p && q < len(other)-p && s[len(s)-1-q] == other[len(other)-1-q] {
		q++
	}
	// Cut on rune boundaries. When s is the start of other (an answer
	// that grew), p is len(s): a boundary already, and s[p] is past its
	// end (issue 18: "index out of range [7] with length 7").
	for p > 0 && p < len(s) && !isRuneStart(s[p]) {
		p--
	}
	for q > 0 && !isRuneStart(s[len(s)-q]) {
		q--
	}
	return p, len(s) - q
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
