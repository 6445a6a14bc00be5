package event

import (
	"encoding/json"
	"fmt"
	"time"
)

// UnmarshalRecord parses the JSON form written by MarshalRecord back into a
// typed Record. The supervisor uses it to read the events the engine sends
// over the control channel, which speaks the same form as -json.
func UnmarshalRecord(b []byte) (Record, error) {
	var head struct {
		Time  time.Time `json:"time"`
		Event string    `json:"event"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return Record{}, fmt.Errorf("event: decode: %w", err)
	}
	e, err := decode(head.Event, b)
	if err != nil {
		return Record{}, err
	}
	return Record{Time: head.Time, Event: e}, nil
}

func decode(name string, b []byte) (Event, error) {
	if d := decoders[name]; d != nil {
		return d(b)
	}
	return nil, fmt.Errorf("event: decode: unknown event %q", name)
}

// decoders holds every kind of event the stream carries, by name: what
// UnmarshalRecord reads, and the list that the tests walk (each name is
// its type's Name, and docs/config.md lists each with its fields). Never
// written after init.
var decoders = map[string]func([]byte) (Event, error){
	"change":         into[Change],
	"ignored":        into[Ignored],
	"build.start":    into[BuildStart],
	"build.ok":       into[BuildOK],
	"build.fail":     into[BuildFail],
	"build.cancel":   into[BuildCanceled],
	"load.ok":        into[LoadOK],
	"load.fail":      into[LoadFail],
	"rollback":       into[Rollback],
	"engine.start":   into[EngineStart],
	"engine.exit":    into[EngineExit],
	"engine.restart": into[EngineRestart],
	"engine.hung":    into[EngineHung],
	"engines":        into[Engines],
	"request":        into[Request],
	"request.cut":    into[RequestCut],
	"unit":           into[Unit],
	"panic":          into[Panic],
	"memory":         into[Memory],
	"log":            into[Log],
	"state.save":     into[StateSaved],
	"state.restore":  into[StateRestored],
	"versions":       into[Versions],
	"diff":           into[Diff],
	"probe":          into[Probe],
	"blame":          into[Blame],
	"generate":       into[Generate],
	"lab":            into[Lab],
	"trial":          into[Trial],
}

func into[E Event](b []byte) (Event, error) {
	var e E
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("event: decode %s: %w", e.Name(), err)
	}
	return e, nil
}
