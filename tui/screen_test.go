package tui

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/charmbracelet/x/vt"

	"github.com/hotrun-dev/hotrun/event"
)

// The screen tests run the model in a real bubbletea program (teatest),
// replay everything it wrote into a terminal emulator of 80×24 and compare
// the text on that screen with testdata/TestScreen/*.golden. Run
// `go test ./tui -run TestScreen -update` to rewrite the goldens.
func TestScreen(t *testing.T) {
	tests := []struct {
		name string
		msgs []tea.Msg
	}{
		{"running", []tea.Msg{RecordsMsg(session())}},
		{"building", []tea.Msg{RecordsMsg(session()), RecordsMsg{
			at(58, event.Change{Files: []string{"logic/handler.go", "logic/items.go"}, Kind: event.KindLogic}),
			at(58.5, event.BuildStart{Version: 3, Target: event.TargetLogic}),
		}}},
		{"build_failed", []tea.Msg{RecordsMsg(session()), RecordsMsg(failed())}},
		{"scrolled", append([]tea.Msg{RecordsMsg(session()), RecordsMsg(requests(47, 300))},
			keys("pgup", "up", "up")...)},
		{"filtered", append(append([]tea.Msg{RecordsMsg(session()), RecordsMsg(requests(47, 300))},
			keys("/")...), append(typed("api/items"), press("enter"))...)},
		{"help", append([]tea.Msg{RecordsMsg(session())}, press("?"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := screen(t, newTestModel(nil), tt.msgs...)
			golden.RequireEqual(t, []byte(got))
		})
	}
}

// screen runs m in a bubbletea program at 80×24, sends msgs, quits, and
// returns the text of the emulated screen, one line per row.
func screen(t *testing.T, m Model, msgs ...tea.Msg) string {
	t.Helper()
	return screenSize(t, m, 80, 24, msgs...)
}

// screenSize is screen on a w×h terminal.
func screenSize(t *testing.T, m Model, w, h int, msgs ...tea.Msg) string {
	t.Helper()
	tm := teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(w, h),
		// What NO_COLOR gives: the goldens hold text, and a fixed profile
		// keeps the bytes the same on every machine.
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)),
	)
	for _, msg := range msgs {
		tm.Send(msg)
	}
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(tm.FinalOutput(t, teatest.WithFinalTimeout(10*time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	// Leaving the alternate screen on exit would show the empty main
	// screen: drop that one sequence to keep the last frame.
	out = bytes.ReplaceAll(out, []byte("\x1b[?1049l"), nil)
	// teatest's output is no tty, so bubbletea writes for a terminal
	// whose line discipline turns "\n" into "\r\n" (ONLCR). Do the same.
	out = bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
	return emulate(t, out, w, h)
}

// emulate replays out into a w×h terminal emulator and returns its text.
func emulate(t *testing.T, out []byte, w, h int) string {
	t.Helper()
	emu := vt.NewEmulator(w, h)
	// The emulator answers the program's queries (background colour,
	// synchronized output) on its input pipe, which blocks until read.
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(io.Discard, emu)
	}()
	if _, err := emu.Write(out); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(emu.String(), "\n")
	if pw, ok := emu.InputPipe().(io.Closer); ok {
		_ = pw.Close()
	}
	<-done
	var b strings.Builder
	for i := range h {
		if i < len(rows) {
			b.WriteString(strings.TrimRight(rows[i], " "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
