// Package chat is the chat demo's shared package: the history the engine
// keeps and the interface the logic implements. Both the engine and every
// logic version import it; a change here is a new engine, which takes over
// with the history (the websockets reconnect).
package chat

import (
	"encoding/json"
	"sync"
	"time"
)

// Message is one line of the chat, as it was said: how it looks is the
// logic's business.
type Message struct {
	ID     int       `json:"id"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// Logic is what every logic version exports, as `var Logic chat.Logic`.
type Logic interface {
	// Page is the chat's HTML page.
	Page() []byte
	// Render turns a message into the HTML the pages show.
	Render(m Message) string
}

// History is the engine's state: every message, in order. It outlives
// every logic version, and hotrun carries it across engines and sessions.
type History struct {
	mu   sync.Mutex
	msgs []Message
}

// maxHistory is how many messages the room keeps.
const maxHistory = 500

// Add appends a message and returns it, numbered.
func (h *History) Add(m Message) Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	m.ID = 0
	if n := len(h.msgs); n > 0 {
		m.ID = h.msgs[n-1].ID + 1
	}
	h.msgs = append(h.msgs, m)
	if len(h.msgs) > maxHistory {
		h.msgs = h.msgs[len(h.msgs)-maxHistory:]
	}
	return m
}

// All returns the messages, oldest first.
func (h *History) All() []Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Message(nil), h.msgs...)
}

// MarshalJSON saves the history under its own lock: hotrun saves it while
// messages keep coming.
func (h *History) MarshalJSON() ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return json.Marshal(h.msgs)
}

// UnmarshalJSON restores a history saved by MarshalJSON.
func (h *History) UnmarshalJSON(b []byte) error {
	var msgs []Message
	if err := json.Unmarshal(b, &msgs); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = msgs
	return nil
}
