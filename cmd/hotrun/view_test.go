package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// bomb is an event whose JSON form panics: the printers' text of an event
// they don't know is its JSON.
type bomb struct{}

func (bomb) Name() string                 { return "bomb" }
func (bomb) MarshalJSON() ([]byte, error) { panic("boom") }

// TestPrintRecordsPanic: an event whose printing panics is skipped, with a
// crash log and a line in the printer's form that names it, and the events
// after it are printed: the headless view never ends on a panic.
func TestPrintRecordsPanic(t *testing.T) {
	tests := []struct {
		name    string
		printer func(*bytes.Buffer) event.Printer
		want    []string
	}{
		{"plain", func(b *bytes.Buffer) event.Printer { return event.NewPlain(b) }, []string{
			"load     v2 live", "error: hotrun recovered from a panic printing a bomb event, which it skipped: boom; stack in ", "load     v3 live"}},
		{"json", func(b *bytes.Buffer) event.Printer { return event.NewJSON(b) }, []string{
			`"event":"load.ok","version":2`, `"event":"log","source":"hotrun","level":"error","text":"hotrun recovered from a panic printing a bomb event, which it skipped: boom; stack in `, `"event":"load.ok","version":3`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), ".hotrun")
			records := make(chan event.Record, 3)
			for _, e := range []event.Event{event.LoadOK{Version: 2}, bomb{}, event.LoadOK{Version: 3}} {
				records <- event.Record{Time: time.Now(), Event: e}
			}
			close(records)
			var b bytes.Buffer
			if err := printRecords(tt.printer(&b), records, dir); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(b.String()), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tt.want), b.String())
			}
			for i, want := range tt.want {
				if !strings.Contains(lines[i], want) {
					t.Errorf("line %d = %s, want it to hold %s", i+1, lines[i], want)
				}
			}
			logs, _ := filepath.Glob(filepath.Join(dir, "crash-*.log"))
			if len(logs) != 1 || !strings.Contains(b.String(), logs[0]) {
				t.Fatalf("crash logs %v, want one, named in the output", logs)
			}
			if l, _ := os.ReadFile(logs[0]); !strings.Contains(string(l), "panic: boom") || !strings.Contains(string(l), "MarshalJSON") {
				t.Errorf("crash log lacks the panic and its stack:\n%s", l)
			}
		})
	}
}
