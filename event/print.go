package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// A Printer writes records as text: the headless views of the stream.
// When making a record's text panics, Print recovers and returns a
// [*PrintPanic] having written nothing: the printer goes on with the next
// record.
type Printer interface {
	Print(Record) error
}

// PrintPanic is the error of a Printer whose making of a record's text
// panicked: a bug in hotrun, not a failure of the writer.
type PrintPanic struct {
	Event string // the name of the event that could not be printed
	Value any    // what the panic carried
	Stack []byte // where it happened
}

func (e *PrintPanic) Error() string {
	return fmt.Sprintf("event: printing a %s event panicked: %v", e.Event, e.Value)
}

// text runs f, which makes r's text, and turns a panic in it into a
// *PrintPanic.
func text(r Record, f func() ([]byte, error)) (b []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			b, err = nil, &PrintPanic{Event: nameOf(r.Event), Value: v, Stack: debug.Stack()}
		}
	}()
	return f()
}

// nameOf is e's name, or its type when Name panics too.
func nameOf(e Event) (name string) {
	name = fmt.Sprintf("%T", e)
	defer func() { recover() }()
	return e.Name()
}

// NewJSON returns a Printer that writes one JSON object a line: "time",
// "event", then the event's fields.
func NewJSON(w io.Writer) Printer { return &jsonPrinter{w: w} }

type jsonPrinter struct {
	w   io.Writer
	buf bytes.Buffer
}

func (p *jsonPrinter) Print(r Record) error {
	b, err := text(r, func() ([]byte, error) { return MarshalRecord(r) })
	if err != nil {
		return err
	}
	p.buf.Reset()
	p.buf.Write(b)
	p.buf.WriteByte('\n')
	_, err = p.w.Write(p.buf.Bytes())
	return err
}

// MarshalRecord returns the JSON form of r: {"time":…,"event":…,fields…}.
func MarshalRecord(r Record) ([]byte, error) { return protocol.Marshal(r.Time, r.Event) }

// NewPlain returns a Printer that writes one readable line per record, for
// people reading a terminal or a CI log.
func NewPlain(w io.Writer) Printer { return &plainPrinter{w: w} }

type plainPrinter struct{ w io.Writer }

func (p *plainPrinter) Print(r Record) error {
	b, err := text(r, func() ([]byte, error) {
		return []byte(r.Time.Format("15:04:05.000") + " " + Format(r.Event) + "\n"), nil
	})
	if err != nil {
		return err
	}
	_, err = p.w.Write(b)
	return err
}

// Format returns e as one line of text for people (several lines for a
// failed build: one per diagnostic).
func Format(e Event) string {
	switch e := e.(type) {
	case Change:
		return fmt.Sprintf("change   %s: %s", e.Kind, Summarize(e.Files, 3))
	case Ignored:
		return fmt.Sprintf("ignored  %s (%s)", e.Path, e.Reason)
	case BuildStart:
		return "build    " + TargetLabel(e.Target, e.Version) + " started"
	case BuildOK:
		s := fmt.Sprintf("build    %s ok in %s", TargetLabel(e.Target, e.Version), e.Duration)
		switch {
		case e.Route != "" && e.Linker != "":
			s += fmt.Sprintf(" (%s, %s linker)", e.Route, e.Linker)
		case e.Route != "":
			s += " (" + e.Route + ")"
		}
		return s
	case BuildCanceled:
		return "build    " + TargetLabel(e.Target, e.Version) + " canceled: a newer change made it stale"
	case BuildFail:
		var b strings.Builder
		fmt.Fprintf(&b, "build    %s FAILED in %s", TargetLabel(e.Target, e.Version), e.Duration)
		if len(e.Diagnostics) == 0 {
			b.WriteString(": " + e.Error)
		}
		for _, d := range e.Diagnostics {
			b.WriteString("\n  " + d.String())
			if src := strings.TrimSpace(d.Source); src != "" {
				// The line as the user wrote it, and a caret under the
				// column when it can be placed (columns count bytes).
				b.WriteString("\n      " + src)
				lead := len(d.Source) - len(strings.TrimLeft(d.Source, " \t"))
				if c := d.Col - 1 - lead; d.Col > 0 && c >= 0 && c <= len(src) {
					b.WriteString("\n      " + strings.Repeat(" ", c) + "^")
				}
			}
		}
		return b.String()
	case LoadOK:
		return fmt.Sprintf("load     v%d live (loaded in %s)", e.Version, e.Duration)
	case LoadFail:
		s := fmt.Sprintf("load     v%d REJECTED: %s", e.Version, e.Error)
		if e.Explain != "" {
			s += "\n  " + e.Explain
		}
		return s
	case Rollback:
		return fmt.Sprintf("rollback v%d -> v%d", e.From, e.To)
	case EngineStart:
		return fmt.Sprintf("engine   started, pid %d", e.PID)
	case EngineExit:
		return "engine   " + e.String()
	case EngineRestart:
		return fmt.Sprintf("engine   restarting pid %d: %s", e.PID, e.Reason)
	case Request:
		return fmt.Sprintf("request  %s %s %d %s v%d", e.Method, e.Path, e.Status, e.Duration, e.Version)
	case RequestCut:
		what := "request"
		if e.Hijacked {
			what = "connection (taken over by its handler: a websocket?)"
		}
		return fmt.Sprintf("cut      %s %s %s after %s: still under way when the engine handed over; its client must reconnect", what, e.Method, e.Path, e.Duration)
	case Panic:
		return fmt.Sprintf("panic    v%d recovered in %s: %s", e.Version, e.Where, e.Value)
	case Memory:
		return fmt.Sprintf("memory   %.1f MB, %d versions loaded", float64(e.RSSBytes)/(1<<20), e.VersionsLoaded)
	case StateSaved:
		return fmt.Sprintf("state    saved (%d bytes in %s)", e.Bytes, e.Duration)
	case StateRestored:
		if e.Error != "" {
			return fmt.Sprintf("state    NOT restored: %s; the engine starts fresh, the snapshot is kept at %s", e.Error, e.Kept)
		}
		if !e.Saved.IsZero() {
			return fmt.Sprintf("state    restored (%d bytes, saved %s ago at %s)", e.Bytes, time.Since(e.Saved).Round(time.Second), e.Saved.Format("15:04:05"))
		}
		return fmt.Sprintf("state    restored (%d bytes)", e.Bytes)
	case Versions:
		var b strings.Builder
		fmt.Fprintf(&b, "versions %d", len(e.Versions))
		for _, v := range e.Versions {
			fmt.Fprintf(&b, "\n  v%-4d %-9s %s", v.Version, v.State, v.Why)
			if v.Suspect != "" {
				fmt.Fprintf(&b, " (suspect: %s)", v.Suspect)
			}
		}
		return strings.TrimRight(b.String(), " ")
	case Diff:
		return fmt.Sprintf("diff     v%d -> v%d\n%s", e.From, e.To, strings.TrimRight(e.Text, "\n"))
	case Probe:
		if e.Error != "" {
			return fmt.Sprintf("probe    v%d %s: %s", e.Version, e.Request, e.Error)
		}
		// An answer of several lines keeps them, indented under the
		// probe's line so that each reads as part of it.
		s := fmt.Sprintf("probe    v%d %s %d %s: %s", e.Version, e.Request, e.Status, e.Duration, indent(e.Body, "  "))
		if e.Previous != "" {
			s += "\n  was: " + indent(e.Previous, "       ")
		}
		return s
	case Blame:
		return fmt.Sprintf("blame    v%d: %s", e.Version, e.Reason)
	case EngineHung:
		return fmt.Sprintf("engine   pid %d HUNG: no answer for %s", e.PID, e.Since)
	case Engines:
		// One short line: the exits, starts and restarts have lines of
		// their own, with their reasons.
		var b strings.Builder
		b.WriteString("engines ")
		if _, ok := e.Serving(); !ok {
			b.WriteString(" none serves;")
		}
		for i, en := range e.Engines {
			if i > 0 {
				b.WriteString(";")
			}
			fmt.Fprintf(&b, " pid %d %s", en.PID, en.State)
			if en.Live != 0 {
				fmt.Fprintf(&b, " v%d", en.Live)
			}
			if len(en.Loaded) > 0 {
				fmt.Fprintf(&b, " (%d loaded)", len(en.Loaded))
			}
		}
		if e.GaveUp != "" {
			b.WriteString(" not started again until a change or R")
		}
		return strings.TrimSuffix(b.String(), ";")
	case Unit:
		s := fmt.Sprintf("unit     %s %s v%d", e.Unit, e.Duration, e.Version)
		if e.Error != "" {
			s += ": " + e.Error
		}
		return s
	case Generate:
		return formatGenerate(e)
	case Lab:
		return formatLab(e)
	case Trial:
		return formatTrial(e)
	case Log:
		if e.Source == SourceEngine {
			return "engine | " + e.Text
		}
		if e.Level != "" && e.Level != "info" {
			return e.Level + ": " + e.Text
		}
		return e.Text
	}
	b, _ := json.Marshal(e)
	return e.Name() + " " + string(b)
}

// formatLab says what changed in a lab: a step's goal, what it waits
// for, or, once a step is done, what hotrun did, the rule behind it, and
// the next step's goal.
func formatLab(e Lab) string {
	head := fmt.Sprintf("%s %d/%d", e.Lab, e.Step, e.Steps)
	goal := fmt.Sprintf("%s %s: %s", head, e.Title, e.Goal)
	if e.File != "" {
		where := e.File
		if e.Line > 0 {
			where += fmt.Sprintf(":%d", e.Line)
		}
		goal += " (edit " + where + ")"
	}
	switch e.What {
	case LabStatus:
		return "lab      " + head + ": " + e.Status
	case LabDone, LabComplete:
		var b strings.Builder
		if t := e.Then; t != nil {
			fmt.Fprintf(&b, "lab      %s %d/%d done: %s", e.Lab, t.Step, e.Steps, t.Title)
			if t.Seen != "" {
				b.WriteString("\n  seen: " + t.Seen)
			}
			b.WriteString("\n  did: " + t.Did + "\n  why: " + t.Rule + "\n  see: " + t.Link)
		}
		if e.Complete {
			fmt.Fprintf(&b, "\n  %s: every step done", e.Lab)
		} else {
			b.WriteString("\n  next: " + goal)
		}
		return strings.TrimPrefix(b.String(), "\n  ")
	}
	s := "lab      " + goal
	if e.Status != "" {
		s += "\n  " + e.Status
	}
	return s
}

// formatTrial says what each plugin.Open of a lab's experiment returned.
func formatTrial(e Trial) string {
	s := fmt.Sprintf("trial    %s: %s", e.Lab, e.What)
	if e.Error != "" {
		return s + ": could not be carried out: " + e.Error
	}
	for _, o := range e.Opens {
		s += fmt.Sprintf("\n  plugin.Open(%s), built by %s: ", o.File, o.Built)
		if o.Error != "" {
			s += o.Error
		} else {
			s += fmt.Sprintf("ok, its Logic says version %d", o.Version)
		}
	}
	return s
}

// indent puts prefix before every line of s but the first, which goes on
// the line already begun. Trailing line breaks and CRs go.
func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\r\n")
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// TargetLabel names what a build built, for people: "engine" or "v3".
func TargetLabel(t string, v int) string {
	if t == TargetEngine {
		return "engine"
	}
	return fmt.Sprintf("v%d", v)
}

// Summarize lists up to n files, then says how many more there are.
func Summarize(files []string, n int) string {
	if len(files) <= n {
		return strings.Join(files, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(files[:n], ", "), len(files)-n)
}
