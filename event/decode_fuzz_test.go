package event

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzUnmarshalRecord feeds the protocol decoder what an engine may send
// (hotrun reads every event an engine writes with it) and prints what it
// decodes. It must not panic; a record it accepts has a JSON form that
// decodes to the same JSON form again; and both printers print it.
func FuzzUnmarshalRecord(f *testing.F) {
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := UnmarshalRecord(line)
		if err != nil {
			return
		}
		b, err := MarshalRecord(r)
		if err != nil {
			t.Fatalf("decoded %s from %q, which has no JSON form: %v", r.Event.Name(), line, err)
		}
		r2, err := UnmarshalRecord(b)
		if err != nil {
			t.Fatalf("the JSON form %s does not decode: %v", b, err)
		}
		b2, err := MarshalRecord(r2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("the JSON form changed on a round trip:\n%s\n%s (%v)", b, b2, err)
		}
		for _, p := range []Printer{NewPlain(io.Discard), NewJSON(io.Discard)} {
			if err := p.Print(r); err != nil {
				var pp *PrintPanic
				if errors.As(err, &pp) {
					t.Fatalf("printing %s panicked: %v\n%s", b, pp.Value, pp.Stack)
				}
				t.Fatalf("printing %s: %v", b, err)
			}
		}
	})
}
