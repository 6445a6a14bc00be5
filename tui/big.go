package tui

import (
	"fmt"
	"strconv"
)

// bigLines draws the presenter layout's body in h rows: the probes'
// answers (probes, their rows as layout drew them), the last change's
// diff, and the newest lines of the timeline.
// The request log is one title line with its count: on a projector, what the
// new version answers says more than the requests scrolling by.
func (m *Model) bigLines(out []string, w, h int, probes []string) []string {
	st := m.st
	if h <= 0 {
		return out
	}
	tl := min(4, max(0, (h-4)/4)) // timeline lines
	rest := h - 1 - tl            // less the timeline's title
	if len(probes) > 0 && rest >= 3 {
		n := min(len(probes), max(1, rest/3))
		out = m.section(out, partProbes, 1+n, func(out []string) []string {
			out = append(out, m.paneTitle(w, "probes", true, st.label.Render(" · what the live version answers")))
			return append(out, probes[:n]...)
		})
		rest -= 1 + n
	}
	out = m.section(out, partLastDiff, rest, func(out []string) []string {
		rest := rest
		d := &m.lastDiff
		name := "last change"
		extra := ""
		if d.to != 0 && d.from >= 1 {
			extra = st.label.Render(fmt.Sprintf(" · diff v%d → v%d", d.from, d.to))
		}
		out = append(out, m.paneTitle(w, name, true, extra))
		rest--
		if d.to == 0 && rest > 0 {
			out = append(out, "  "+st.muted.Render("no change yet: save a file of the logic"))
			rest--
		} else if rest > 0 {
			out = m.diffLines(out, d, w, rest, false)
			rest = 0
		}
		return fill(out, rest)
	})
	return m.section(out, partTimeline, 1+tl, func(out []string) []string {
		extra := st.label.Render(" · " + strconv.FormatUint(m.reqs.lines.total, 10) + " requests")
		out = append(out, m.paneTitle(w, "timeline", false, extra))
		return m.noteLines(out, tl)
	})
}
