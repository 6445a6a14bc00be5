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
	switch name {
	case "change":
		return into[Change](b)
	case "ignored":
		return into[Ignored](b)
	case "build.start":
		return into[BuildStart](b)
	case "build.ok":
		return into[BuildOK](b)
	case "build.fail":
		return into[BuildFail](b)
	case "build.cancel":
		return into[BuildCanceled](b)
	case "load.ok":
		return into[LoadOK](b)
	case "load.fail":
		return into[LoadFail](b)
	case "rollback":
		return into[Rollback](b)
	case "engine.start":
		return into[EngineStart](b)
	case "engine.exit":
		return into[EngineExit](b)
	case "engine.restart":
		return into[EngineRestart](b)
	case "request":
		return into[Request](b)
	case "request.cut":
		return into[RequestCut](b)
	case "panic":
		return into[Panic](b)
	case "memory":
		return into[Memory](b)
	case "log":
		return into[Log](b)
	case "state.save":
		return into[StateSaved](b)
	case "state.restore":
		return into[StateRestored](b)
	case "versions":
		return into[Versions](b)
	case "diff":
		return into[Diff](b)
	case "probe":
		return into[Probe](b)
	case "blame":
		return into[Blame](b)
	case "engine.hung":
		return into[EngineHung](b)
	case "unit":
		return into[Unit](b)
	case "generate":
		return into[Generate](b)
	}
	return nil, fmt.Errorf("event: decode: unknown event %q", name)
}

func into[E Event](b []byte) (Event, error) {
	var e E
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("event: decode %s: %w", e.Name(), err)
	}
	return e, nil
}
