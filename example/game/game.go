// Package game is the example's shared package: the state the engine owns
// and the interface the logic plugin implements. Both the engine and every
// logic version import it, so its types are one type in both.
//
// A change here can't be hot-swapped: the engine holds this package, so
// hotrun rebuilds and restarts the engine for it.
package game

import (
	"encoding/json"
	"sync"
)

// State is the engine's in-memory state. It outlives every logic version.
type State struct {
	mu         sync.Mutex
	visits     int    // requests served, across every version
	version    int    // the model version serving
	name       string // the model name serving
	oldVersion int    // the model version before the current one
	oldName    string // the model name before the current one
}

// Snapshot is the state as plain data, for reading it in one piece.
type Snapshot struct {
	Visits     int
	Version    int
	Name       string
	OldVersion int
	OldName    string
}

// Visit counts one request and returns the state as it is after it.
func (s *State) Visit() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.visits++
	return s.snapshot()
}

func (s *State) snapshot() Snapshot {
	return Snapshot{Visits: s.visits, Version: s.version, Name: s.name, OldVersion: s.oldVersion, OldName: s.oldName}
}

// Swapped records that the model version serving is now version/name. The
// one before becomes the old one, unless it is the same model coming back
// (a restarted engine loading the version it served).
func (s *State) Swapped(version int, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if version == s.version && name == s.name {
		return
	}
	s.oldVersion, s.oldName = s.version, s.name
	s.version, s.name = version, name
}

// MarshalJSON saves the state when hotrun restarts the engine (a change
// to this package, or a crash): the new engine restores it, so visits keep
// counting. JSON keeps every other value when a field is added or removed.
func (s *State) MarshalJSON() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return json.Marshal(s.snapshot())
}

// UnmarshalJSON restores a state saved by MarshalJSON.
func (s *State) UnmarshalJSON(b []byte) error {
	var snap Snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.visits, s.version, s.name = snap.Visits, snap.Version, snap.Name
	s.oldVersion, s.oldName = snap.OldVersion, snap.OldName
	return nil
}

// Logic is what every logic version exports, as `var Logic game.Logic`.
type Logic interface {
	// Version and Name identify the model this version implements.
	Version() int
	Name() string
	// Hello answers GET /hello for name, given the state after this visit.
	Hello(name string, s Snapshot) string
}
