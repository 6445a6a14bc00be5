package event

import (
	"bytes"
	"testing"
	"time"
)

// TestPlain checks the plain lines of the events whose text spans lines.
func TestPlain(t *testing.T) {
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		e    Event
		want string
	}{
		{"probe", Probe{Version: 2, Request: "GET /hello", Status: 200, Duration: Duration(time.Millisecond), Body: "hello v2", Previous: "hello v1"},
			"10:00:00.000 probe    v2 GET /hello 200 1ms: hello v2\n  was: hello v1\n"},
		// A chat room's answer: its lines kept, under the probe's line.
		{"probe of several lines", Probe{Version: 2, Request: "GET /show?room=a", Status: 200, Duration: Duration(time.Millisecond),
			Body: "chat v2\r\n[a] hi1\r\n[a] hi2\r\n", Previous: "chat v1\n[a] hi1"},
			"10:00:00.000 probe    v2 GET /show?room=a 200 1ms: chat v2\n  [a] hi1\n  [a] hi2\n  was: chat v1\n       [a] hi1\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := NewPlain(&b).Print(Record{Time: at, Event: tt.e}); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("%s: printed\n%s\nwant\n%s", tt.name, b.String(), tt.want)
		}
	}
}
