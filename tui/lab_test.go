package tui

import (
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hotrun-dev/hotrun/event"
)

// plain is the screen's text without its styles.
func plain(m Model) string { return ansi.Strip(content(m)) }

// fakeLab records which lab keys reached the guide.
type fakeLab struct {
	mu    sync.Mutex // guards calls
	calls []string
}

func (l *fakeLab) add(s string) { l.mu.Lock(); l.calls = append(l.calls, s); l.mu.Unlock() }
func (l *fakeLab) Next()        { l.add("next") }
func (l *fakeLab) Prev()        { l.add("prev") }
func (l *fakeLab) Apply()       { l.add("apply") }

// labDone is a lab's event once its first step is done: the step
// explained, and the second one's goal.
func labDone() event.Lab {
	return event.Lab{What: event.LabDone, Lab: "global-var", Limit: "a global of the logic starts again", Steps: 3, Step: 2,
		Title: "A swap", Goal: "Change modelVersion to 1002 and save.", File: "hotrun-lab-global-var/logic/main.go", Line: 15,
		Passed: []int{1},
		Then: &event.LabExplain{Step: 1, Title: "A global in the logic", Seen: "v2 answered calls=2",
			Did: "hotrun swapped the new version in.", Rule: "A package-level variable lives as long as the program.", Link: "https://go.dev/ref/spec#Variable_declarations"}}
}

// TestLabPane checks what the lab pane shows of a lab's event, and that
// its keys go to the guide: n, p and a; P pauses a pane then.
func TestLabPane(t *testing.T) {
	ctl := &fakeLab{}
	m := NewModel(Options{Project: "hotrun-lab-global-var", Now: fixedNow, Lab: ctl})
	m, _ = update(t, m, RecordsMsg(session()))
	m, _ = update(t, m, RecordsMsg{at(50, labDone())})
	s := plain(m)
	for _, want := range []string{
		"lab global-var · step 2 of 3", "●○○",
		"✓ step 1 done: A global in the logic", "seen: v2 answered calls=2", "hotrun swapped the new version in.",
		"why: A package-level variable", "https://go.dev/ref/spec#Variable_declarations",
		"▸ A swap: Change modelVersion to 1002 and save.",
		"edit hotrun-lab-global-var/logic/main.go:15 · e opens it",
		"lab global-var: step 1 done: A global in the logic", // the timeline
		"n/p step", "a show me",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the screen lacks %q:\n%s", want, s)
		}
	}
	for _, k := range []string{"n", "p", "a"} {
		m, _ = update(t, m, press(k))
	}
	if got := strings.Join(ctl.calls, ","); got != "next,prev,apply" {
		t.Errorf("the lab keys reached the guide as %q, want next,prev,apply", got)
	}
	if m.reqs.paused {
		t.Error("p paused the request log in a lab, where it is the step before")
	}
	m, _ = update(t, m, press("P"))
	if !m.reqs.paused {
		t.Error("P did not pause the request log in a lab")
	}

	// A done step shown again holds its own explanation and no goal; a
	// lab done says so.
	again := labDone()
	again.What, again.Step, again.Title = event.LabOpened, 1, "A global in the logic"
	again.Then = &event.LabExplain{Step: 1, Title: "A global in the logic", Did: "hotrun swapped it.", Rule: "r", Link: "https://go.dev/"}
	m, _ = update(t, m, RecordsMsg{at(51, again)})
	if s := plain(m); !strings.Contains(s, "✓ step 1 done") || strings.Contains(s, "▸ A global in the logic:") {
		t.Errorf("a done step shown again: want its explanation and no goal:\n%s", s)
	}
	complete := labDone()
	complete.What, complete.Complete, complete.Passed = event.LabComplete, true, []int{1, 2, 3}
	m, _ = update(t, m, RecordsMsg{at(52, complete)})
	if s := plain(m); !strings.Contains(s, "Every step of this lab is done") || !strings.Contains(s, "●●●") {
		t.Errorf("a lab done: want it said:\n%s", s)
	}
}

// TestNoLabPane checks that without a lab nothing of it shows, and p
// pauses as ever.
func TestNoLabPane(t *testing.T) {
	m := newTestModel(nil)
	m, _ = update(t, m, RecordsMsg(session()))
	if strings.Contains(plain(m), "lab ") || strings.Contains(plain(m), "n/p step") {
		t.Errorf("a lab pane or its keys without a lab:\n%s", plain(m))
	}
	m, _ = update(t, m, press("p"))
	if !m.reqs.paused {
		t.Error("p did not pause the request log")
	}
}

// TestDiagnosticLines checks that a compiler message of several lines (the
// go command's continuation lines, hotrun's hint of the lab that shows a
// limit) reads as one line in the build panel, its parts apart.
func TestDiagnosticLines(t *testing.T) {
	m := newTestModel(nil)
	m, _ = update(t, m, tea.WindowSizeMsg{Width: 160, Height: 24})
	m, _ = update(t, m, RecordsMsg{at(1, event.BuildFail{Version: 2, Target: event.TargetLogic, Error: "builder: x",
		Diagnostics: []event.Diagnostic{{File: "logic/main.go", Line: 8, Col: 2, Msg: "import \"m/engine\" is a program, not an importable package\nthe logic can't import the engine's package main (hotrun lab main-var)"}}})})
	if s := plain(m); !strings.Contains(s, "not an importable package; the logic can't") {
		t.Errorf("the message's lines run together or are lost:\n%s", s)
	}
}
