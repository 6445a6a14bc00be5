package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hotrun-dev/hotrun/event"
)

// TestProbeLongAnswer checks that what a long answer says about the
// version is on an 80-column screen: the first answer takes a second line,
// and a later one starts at the word that changed, over the one before.
func TestProbeLongAnswer(t *testing.T) {
	const greet = "hello test, this is golang plugin test!, "
	m := NewModel(Options{Now: fixedNow})
	m = drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}, RecordsMsg{at(1, event.Probe{Version: 1, Request: "GET /hello?name=test", Status: 200,
		Duration: ms(1.2), Body: greet + "version=1001, name=game1, oldversion=0, oldName=, visits=1"})})
	screen := ansi.Strip(content(m))
	if !strings.Contains(screen, "\n    version=1001, name=game1, oldversion=0, oldName=, visits=1\n") {
		t.Errorf("the first answer is not wrapped after its greeting:\n%s", screen)
	}
	m = drive(t, m, RecordsMsg{at(2, event.Probe{Version: 2, Request: "GET /hello?name=test", Status: 200,
		Duration: ms(1.2), Body: greet + "version=1002, name=game2, oldversion=1001, oldName=game1, visits=3",
		Previous: greet + "version=1001, name=game1, oldversion=0, oldName=, visits=1"})})
	screen = ansi.Strip(content(m))
	for _, want := range []string{"v2  …version=1002, name=game2, oldversion=1001", "    was …version=1001, name=game1, oldversion=0,"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
}

// TestProbeAnswerGrows is issue 18's crash: a chat room's answer grows, so
// the answer before is the start of the new one, and drawing what changed
// read past the end of the old answer ("index out of range [7] with length
// 7" in changed).
func TestProbeAnswerGrows(t *testing.T) {
	m := NewModel(Options{Now: fixedNow})
	m = drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}, RecordsMsg{
		at(1, event.Probe{Version: 1, Request: "GET /show?room=crash", Status: 200, Body: "chat v1"}),
		at(2, event.Probe{Version: 2, Request: "GET /show?room=crash", Status: 200, Body: "chat v1 hi1", Previous: "chat v1"}),
	})
	screen := ansi.Strip(content(m))
	for _, want := range []string{"v2  chat v1 hi1\n", "    was chat v1\n"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
}

// TestDiffers checks the part of an answer that the probe pane highlights
// as changed, whichever answer is the start of the other.
func TestDiffers(t *testing.T) {
	tests := []struct {
		s, other string
		want     string // s with the part that differs in brackets
	}{
		{"chat v1 hi1", "chat v1", "chat v1[ hi1]"},
		{"chat v1", "chat v1 hi1", "chat v1"}, // the answer before: nothing of it is new
		{"hi1 chat", "chat", "[hi1 ]chat"},
		{"chat", "hi1 chat", "chat"},
		{"version=1002", "version=1001", "version=100[2]"},
		{"same", "same", "same"},
		{"new", "", "new"},
		{"", "old", ""},
		{"é", "è", "[é]"}, // one byte in common: cut on the rune
		{"aé", "a", "a[é]"},
		{"a", "aé", "a"},
		{"ab", "aéb", "ab"},
		{"aéb", "ab", "a[é]b"},
	}
	for _, tt := range tests {
		p, e := differs(tt.s, tt.other)
		got := tt.s
		if p != e {
			got = tt.s[:p] + "[" + tt.s[p:e] + "]" + tt.s[e:]
		}
		if got != tt.want {
			t.Errorf("differs(%q, %q) marks %q, want %q", tt.s, tt.other, got, tt.want)
		}
	}
}

// TestProbeLines checks that an answer of several lines keeps its line
// breaks (issue 18: a chat room showed as "chat v2[a] hi1[a] hi2"): each
// line on a row of its own, the lines that changed highlighted, and under
// "was" the lines of the answer before that differ.
func TestProbeLines(t *testing.T) {
	const req = "GET /show?room=a"
	m := NewModel(Options{Now: fixedNow})
	m = drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}, RecordsMsg{
		at(1, event.Probe{Version: 1, Request: req, Status: 200, Body: "chat v1\n[a] hi1"}),
	})
	screen := ansi.Strip(content(m))
	if want := " GET /show?room=a  200 <0.1ms v1  chat v1\n    [a] hi1\n"; !strings.Contains(screen, want) {
		t.Errorf("first answer: screen lacks %q:\n%s", want, screen)
	}

	// CRLF lines, as many servers write them.
	m = drive(t, m, RecordsMsg{
		at(2, event.Probe{Version: 2, Request: req, Status: 200, Body: "chat v2\r\n[a] hi1\r\n[a] hi2", Previous: "chat v1\n[a] hi1"}),
	})
	raw := content(m)
	screen = ansi.Strip(raw)
	want := " GET /show?room=a  200 <0.1ms v2  chat v2\n    [a] hi1\n    [a] hi2\n    was chat v1\n"
	if !strings.Contains(screen, want) {
		t.Errorf("answer that grew: screen lacks %q:\n%s", want, screen)
	}
	if strings.Contains(screen, "chat v2[a]") {
		t.Errorf("the answer's lines are run together:\n%s", screen)
	}
	// The new line is all new; of the first, only the version changed.
	for _, hl := range []string{m.st.good.Bold(true).Render("[a] hi2"), "chat v" + m.st.good.Bold(true).Render("2")} {
		if !strings.Contains(raw, hl) {
			t.Errorf("%q not highlighted as changed:\n%q", ansi.Strip(hl), raw)
		}
	}
	if want := "probe GET /show?room=a on v2: 200 line 1 of 3: …v2\n"; !strings.Contains(m.timelineText(), want) {
		t.Errorf("timeline lacks %q:\n%s", want, m.timelineText())
	}

	// A long answer takes at most maxProbeRows rows and counts the rest.
	var long []string
	for i := range 20 {
		long = append(long, "line "+strings.Repeat("x", i))
	}
	m = drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 60}, RecordsMsg{
		at(3, event.Probe{Version: 3, Request: req, Status: 200, Body: strings.Join(long, "\n")}),
	})
	screen = ansi.Strip(content(m))
	if want := "    line xxxxxx\n    … 13 more lines\n"; !strings.Contains(screen, want) {
		t.Errorf("long answer: screen lacks %q:\n%s", want, screen)
	}
}
