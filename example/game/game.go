// Package game is the example's shared package: the state the engine owns
// and the interface the logic plugin implements. Both the engine and every
// logic version import it, so its types are one type in both.
//
// A change here can't be hot-swapped: the engine holds this package, so
// hotrun rebuilds and restarts the engine for it.
package game

import "sync"

// State is the engine's in-memory state. It outlives every logic version.
type State struct {
	mu         sync.Mutex
	visits     int    // requests served, across every version
	oldVersion int    // the model version before the current one
	oldName    string // the model name before the current one
}

// Snapshot is the state as plain data, for reading it in one piece.
type Snapshot struct {
	Visits     int
	OldVersion int
	OldName    string
}

// Visit counts one request and returns the state as it is after it.
func (s *State) Visit() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.visits++
	return Snapshot{Visits: s.visits, OldVersion: s.oldVersion, OldName: s.oldName}
}

// Swapped records the version that was current before a swap.
func (s *State) Swapped(oldVersion int, oldName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oldVersion, s.oldName = oldVersion, oldName
}

// Logic is what every logic version exports, as `var Logic game.Logic`.
type Logic interface {
	// Version and Name identify the model this version implements.
	Version() int
	Name() string
	// Hello answers GET /hello for name, given the state after this visit.
	Hello(name string, s Snapshot) string
}
