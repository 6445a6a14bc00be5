package tui

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// The lab pane (hotrun lab): the step's goal, the file to edit, and, once
// the step's events came, what hotrun did and the Go rule behind it. It
// draws the last [event.Lab] as it came: the lab's guide decides what step
// is shown and when one is done; the pane's keys only ask it.

// LabControl is what the lab pane's keys ask of a lab's guide. Each call
// returns at once; what it changes comes back as an [event.Lab].
type LabControl interface {
	Next()  // n: the next step
	Prev()  // p: the step before
	Apply() // a: do the step's reference edit (a learner who is stuck)
}

// labKeys are the keys of the lab pane; with a lab, p is the step before
// and the pane's pause moves to P.
type labKeys struct {
	Next  key.Binding
	Prev  key.Binding
	Edit  key.Binding
	Apply key.Binding
}

func newLabKeys() labKeys {
	return labKeys{
		Next:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n/p", "step")),
		Prev:  key.NewBinding(key.WithKeys("p")),
		Edit:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit")),
		Apply: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "show me")),
	}
}

// editorDoneMsg says the editor the e key opened has exited.
type editorDoneMsg struct{ err error }

// labKey handles a key of the lab pane; false when k is none of them.
func (m *Model) labKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	if m.labCtl == nil {
		return nil, false
	}
	k := &m.labKeys
	switch {
	case key.Matches(msg, k.Next):
		m.labCtl.Next()
	case key.Matches(msg, k.Prev):
		m.labCtl.Prev()
	case key.Matches(msg, k.Apply):
		m.labCtl.Apply()
		m.addNote(m.now(), noteMuted, "lab: doing the step for you")
	case key.Matches(msg, k.Edit):
		return m.edit(), true
	default:
		return nil, false
	}
	return nil, true
}

// edit opens the step's file at its line in the user's editor ($VISUAL,
// $EDITOR, or vi), giving it the terminal until it exits.
func (m *Model) edit() tea.Cmd {
	if m.lab.File == "" {
		m.addNote(m.now(), noteMuted, "lab: this step has no file to edit")
		return nil
	}
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	args := strings.Fields(editor)
	if m.lab.Line > 0 {
		args = append(args, "+"+strconv.Itoa(m.lab.Line))
	}
	args = append(args, m.lab.File)
	return tea.ExecProcess(exec.Command(args[0], args[1:]...), func(err error) tea.Msg { return editorDoneMsg{err} })
}

// labLines draws the lab pane: its title, what the step done last taught,
// the shown step's goal and file, and what the lab waits for.
func (m *Model) labLines(w int) []string {
	st, l := m.st, &m.lab
	marks := ""
	for i := 1; i <= l.Steps; i++ {
		if containsInt(l.Passed, i) {
			marks += st.good.Render("●")
		} else {
			marks += st.muted.Render("○")
		}
	}
	title := fmt.Sprintf("lab %s · step %d of %d", clean(l.Lab), l.Step, l.Steps)
	out := []string{m.paneTitle(w-l.Steps-1, title, true, "") + " " + marks}
	wrap := func(prefix string, style lipglossStyle, text string) {
		text = clean(text)
		for i, line := range strings.Split(ansi.Wordwrap(text, max(10, w-ansi.StringWidth(prefix)-1), ""), "\n") {
			p := prefix
			if i > 0 {
				p = strings.Repeat(" ", ansi.StringWidth(prefix))
			}
			out = append(out, p+style.Render(line))
		}
	}
	if t := l.Then; t != nil {
		wrap(" "+st.good.Render("✓")+" ", st.good.Bold(true), fmt.Sprintf("step %d done: %s", t.Step, t.Title))
		if t.Seen != "" {
			wrap("   ", st.label, "seen: "+t.Seen)
		}
		wrap("   ", st.value.UnsetBold(), t.Did)
		wrap("   ", st.info, "why: "+t.Rule)
		wrap("   ", st.muted, t.Link)
	}
	if l.Complete {
		wrap(" "+st.good.Render("●")+" ", st.good, "Every step of this lab is done. `hotrun lab` lists the others; q quits.")
		return out
	}
	if l.Then == nil || l.Then.Step != l.Step {
		wrap(" "+st.title.Render("▸")+" ", st.value, l.Title+": "+l.Goal)
		if l.File != "" {
			where := l.File
			if l.Line > 0 {
				where += ":" + strconv.Itoa(l.Line)
			}
			wrap("   ", st.label, "edit "+where+" · e opens it in $EDITOR · a shows you · n/p steps")
		}
	}
	if l.Status != "" {
		wrap(" "+st.warn.Render("…")+" ", st.warn, l.Status)
	}
	return out
}

func containsInt(s []int, n int) bool {
	for _, v := range s {
		if v == n {
			return true
		}
	}
	return false
}
