// Package room is the chat project's shared package: the state the engine
// owns (a chat room) and the interface the logic implements.
package room

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Message is one chat message.
type Message struct {
	From string    `json:"from"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Room is the engine's state: the messages and a visit count.
type Room struct {
	mu       sync.Mutex
	messages []Message
	visits   int
}

// Visit counts one request and returns the count after it.
func (r *Room) Visit() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.visits++
	return r.visits
}

// Post adds a message, keeping the last 100.
func (r *Room) Post(m Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages = append(r.messages, m)
	if len(r.messages) > 100 {
		r.messages = r.messages[len(r.messages)-100:]
	}
}

// Messages returns a copy of the messages.
func (r *Room) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.messages...)
}

type saved struct {
	Messages []Message
	Visits   int
}

// MarshalJSON saves the room across engine restarts.
func (r *Room) MarshalJSON() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return json.Marshal(saved{r.messages, r.visits})
}

// UnmarshalJSON restores it.
func (r *Room) UnmarshalJSON(b []byte) error {
	var s saved
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages, r.visits = s.Messages, s.Visits
	return nil
}

// Logic is what the plugin exports: the HTTP handlers, given the room.
type Logic interface {
	Version() int
	ServeHTTP(w http.ResponseWriter, req *http.Request, r *Room)
}
