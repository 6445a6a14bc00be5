package event

import "time"

// Engine states: where an engine process stands in the supervisor's model.
// The model is the one owner of these facts; views only show what it says.
const (
	EngineStarting = "starting" // the process starts: no pid yet, or no word from it yet
	EngineStandby  = "standby"  // it loads its version and readies to take over, without traffic
	EngineServing  = "serving"  // it takes the traffic
	EngineDraining = "draining" // it hands over to the next one, then exits
	// EngineUnresponsive is an engine that stopped answering its pings
	// (an [EngineHung] event said so); it is replaced after a grace.
	EngineUnresponsive = "hung"
)

// EngineInfo is one engine process as the supervisor's model holds it:
// what the engine last reported, never a guess.
type EngineInfo struct {
	PID   int    `json:"pid"`   // 0 while it starts
	State string `json:"state"` // Engine*
	// Serving says it is the engine that takes the traffic, whatever its
	// state: one that stopped answering, or drains, still is until the
	// next one takes over.
	Serving bool `json:"serving,omitempty"`
	Live    int  `json:"live,omitempty"` // the version it answers with; 0 for none
	// Since is when Live went live in it, while it serves.
	Since  time.Time `json:"since,omitzero"`
	Loaded []int     `json:"loaded,omitempty"` // the versions it holds, ascending
	// Why says why it was started (a restart asked for, a package the
	// engine holds changed, a recycle); for one that drains, why it stops.
	Why string `json:"why,omitempty"`
}

// Engines is every engine process alive, in the order they started,
// published by the supervisor whenever what it says changes: an engine
// started, loaded a version, switched, took over, hung, ended. While no
// engine serves, Ended says how the last one that mattered ended (the one
// that served, or one that died before it could) and WasLive the version
// the last serving one served; GaveUp says why hotrun stopped starting
// engines, when it has (the same death at each start: until the next
// change or R).
type Engines struct {
	Engines []EngineInfo `json:"engines"`
	Ended   *EngineExit  `json:"ended,omitempty"`
	WasLive int          `json:"was_live,omitempty"`
	GaveUp  string       `json:"gave_up,omitempty"`
}

// Serving returns the engine that takes the traffic, and whether one does.
func (e Engines) Serving() (EngineInfo, bool) {
	for _, en := range e.Engines {
		if en.Serving {
			return en, true
		}
	}
	return EngineInfo{}, false
}

func (Engines) Name() string { return "engines" }
