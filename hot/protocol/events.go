package protocol

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// An Event is what the engine reports to hotrun: one JSON line
// {"time":…,"event":Name(),fields…}. hotrun's own event stream uses these
// same types, so the two sides can't disagree on a field.
type Event interface {
	Name() string
}

// Marshal returns the JSON line of e at t, without its newline:
// {"time":…,"event":…,fields…}.
func Marshal(t time.Time, e Event) ([]byte, error) {
	fields, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("protocol: marshal %s: %w", e.Name(), err)
	}
	head, _ := json.Marshal(struct {
		Time  time.Time `json:"time"`
		Event string    `json:"event"`
	}{t, e.Name()})
	// Splice the two objects so that time and event come first, whatever the
	// fields: {"time":…,"event":…} + {fields} → {"time":…,"event":…,fields}.
	if len(fields) <= 2 {
		return head, nil
	}
	out := make([]byte, 0, len(head)+len(fields))
	out = append(out, head[:len(head)-1]...)
	out = append(out, ',')
	out = append(out, fields[1:]...)
	return out, nil
}

// Duration is a time.Duration that marshals to JSON as milliseconds, so the
// JSON form stays readable and language-neutral.
type Duration time.Duration

// MarshalJSON writes d as a number of milliseconds, rounded to the
// microsecond: a fast request takes less than 0.1 ms.
func (d Duration) MarshalJSON() ([]byte, error) {
	ms := float64(d) / float64(time.Millisecond)
	return json.Marshal(math.Round(ms*1000) / 1000)
}

// UnmarshalJSON reads a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return fmt.Errorf("event: duration: %w", err)
	}
	*d = Duration(ms * float64(time.Millisecond))
	return nil
}

// String formats d like time.Duration, rounded for people.
func (d Duration) String() string {
	t := time.Duration(d)
	switch {
	case t >= time.Second:
		return t.Round(10 * time.Millisecond).String()
	case t >= time.Millisecond:
		return t.Round(100 * time.Microsecond).String()
	default:
		return t.Round(time.Microsecond).String()
	}
}

// LoadOK says the engine loaded a version and it now serves requests.
type LoadOK struct {
	Version  int      `json:"version"`
	Duration Duration `json:"duration_ms"`
}

// LoadFail says the engine rejected a version; the previous one keeps
// serving. Error is the raw error, Explain one plain sentence with the fix,
// Code the kind of a known failure (Code*): what a program acts on, the
// words being for people.
type LoadFail struct {
	Version int    `json:"version"`
	Error   string `json:"error"`
	Explain string `json:"explain,omitempty"`
	Code    string `json:"code,omitempty"`
}

// Rollback says the engine switched to a version it had loaded before.
type Rollback struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// Request is one request the engine served.
type Request struct {
	Method   string   `json:"method"`
	Path     string   `json:"path"`
	Status   int      `json:"status"`
	Duration Duration `json:"duration_ms"`
	Version  int      `json:"version"`
}

// RequestCut says a draining engine cut a request (or a connection a
// handler took over: a websocket, a stream) that was still under way when
// its drain grace ran out, so that the next engine could take over.
type RequestCut struct {
	Method   string   `json:"method"`
	Path     string   `json:"path"`
	Duration Duration `json:"duration_ms"` // how long it had run
	Version  int      `json:"version,omitempty"`
	Hijacked bool     `json:"hijacked,omitempty"` // the handler took the connection over
}

// Panic says the engine recovered a panic in plugin code.
type Panic struct {
	Version int    `json:"version"`
	Value   string `json:"value"`
	Where   string `json:"where"`
}

// StateSaved says the engine wrote a snapshot of its state, which a new
// engine restores after a restart or a crash.
type StateSaved struct {
	Bytes    int      `json:"bytes"`
	Duration Duration `json:"duration_ms"`
}

// StateRestored says a new engine read the snapshot back, or could not: then
// Error says why, the engine starts with fresh state, and Kept names the
// snapshot file, kept for inspection.
type StateRestored struct {
	Bytes int       `json:"bytes"`
	Saved time.Time `json:"saved,omitzero"` // when the snapshot was written
	Error string    `json:"error,omitempty"`
	Kept  string    `json:"kept,omitempty"`
}

// Log is one line of text: the engine's own output, or a message of hotrun's
// that fits no other event.
type Log struct {
	Source string `json:"source"`
	Stream string `json:"stream,omitempty"` // "stdout" or "stderr" for the engine
	Level  string `json:"level,omitempty"`  // "info", "warn" or "error" for hotrun
	Text   string `json:"text"`
}

// Unit is one unit of work that is not an HTTP request (a game tick, a
// message, a job), run on one version through the engine library: it shows
// in the request log like a request.
type Unit struct {
	Unit     string   `json:"unit"`
	Duration Duration `json:"duration_ms"`
	Version  int      `json:"version"`
	Error    string   `json:"error,omitempty"` // the unit's error, or its recovered panic
}

func (LoadOK) Name() string        { return "load.ok" }
func (LoadFail) Name() string      { return "load.fail" }
func (Rollback) Name() string      { return "rollback" }
func (Request) Name() string       { return "request" }
func (RequestCut) Name() string    { return "request.cut" }
func (Panic) Name() string         { return "panic" }
func (StateSaved) Name() string    { return "state.save" }
func (StateRestored) Name() string { return "state.restore" }
func (Log) Name() string           { return "log" }
func (Unit) Name() string          { return "unit" }
