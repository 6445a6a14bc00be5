package event

import (
	"sync/atomic"
	"time"
)

// A Publisher accepts events. The watcher, the builder and the supervisor
// take one; they never print.
type Publisher interface {
	Publish(Event)
}

// PublisherFunc adapts a function to a Publisher.
type PublisherFunc func(Event)

// Publish calls f(e).
func (f PublisherFunc) Publish(e Event) { f(e) }

// Discard is a Publisher that drops every event.
var Discard Publisher = PublisherFunc(func(Event) {})

// Stream is the one stream of events: many publishers, one consumer (the
// view). It stamps each event with the time it was published.
//
// Request events are dropped rather than waited for when the consumer falls
// behind, so that a flood of requests can never stall a build or a load;
// Dropped counts them. Every other event is delivered.
type Stream struct {
	ch      chan Record // guards nothing; closed by Close once publishers are done
	dropped atomic.Int64
	now     func() time.Time
}

// NewStream returns a Stream that buffers up to size records.
func NewStream(size int) *Stream {
	return &Stream{ch: make(chan Record, size), now: time.Now}
}

// Publish sends e to the consumer. It blocks while the buffer is full,
// except for Request events, which are then dropped.
func (s *Stream) Publish(e Event) {
	r := Record{Time: s.now(), Event: e}
	if _, ok := e.(Request); ok {
		select {
		case s.ch <- r:
		default:
			s.dropped.Add(1)
		}
		return
	}
	s.ch <- r
}

// Records is the channel the consumer reads. It is closed by Close.
func (s *Stream) Records() <-chan Record { return s.ch }

// Dropped reports how many Request events were dropped so far.
func (s *Stream) Dropped() int64 { return s.dropped.Load() }

// Close ends the stream. Call it only after every publisher has stopped.
func (s *Stream) Close() { close(s.ch) }
