package hot

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// The control socket is where the engine takes orders: only hotrun may
// connect, but what it reads there still must never take the engine down.
// These fuzz tests feed its line reader and its command loop any bytes.

// FuzzReadLine checks the control line reader: no line longer than the
// limit comes out, no byte comes out that went not in, and a too-long line
// is skipped to its end.
func FuzzReadLine(f *testing.F) {
	f.Add([]byte(`{"id":1,"op":"ping"}` + "\n"))
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(strings.Repeat("a", 100) + "\n" + `{"op":"load","path":"/x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(b), 16)
		total := 0
		for {
			line, err := readLine(r, 64)
			if errors.Is(err, errLineTooLong) {
				continue
			}
			if err != nil {
				break
			}
			if len(line) > 64 {
				t.Fatalf("line of %d bytes passed a 64-byte limit", len(line))
			}
			if !bytes.Contains(b, line) {
				t.Fatalf("line %q is not in the input", line)
			}
			total += len(line)
			var cmd protocol.Command
			json.Unmarshal(line, &cmd) // must not panic
		}
		if total > len(b) {
			t.Fatalf("read %d bytes from %d", total, len(b))
		}
	})
}

// FuzzControl runs the control server's command loop on any input, as
// hotrun's connection, against a host that does nothing: every line gets
// exactly one reply, each reply is a Reply, and the loop ends when the
// input does.
func FuzzControl(f *testing.F) {
	build := f.TempDir()
	for _, s := range []string{
		`{"id":1,"op":"ping"}`,
		`{"id":2,"op":"status"}` + "\n" + `{"id":3,"op":"load","version":2,"path":"` + build + `/logic.v2.so"}`,
		`{"id":4,"op":"load","version":1,"path":"evil.so"}` + "\n" + `{"id":5,"op":"activate","version":1}` + "\n" + `{"id":6,"op":"snapshot"}`,
		`{"id":7,"op":"takeover","path":"/nonexistent"}` + "\n" + `{"id":8,"op":"stop"}` + "\n" + `{"id":9,"op":"exec"}`,
		`{"id":11,"op":"check-state","path":"/x"}` + "\n" + `{"id":12,"op":"stop","grace":-5}`,
		"{\"id\":10,\"op\":\n\n" + strings.Repeat("x", protocol.MaxLine+10) + "\n{}",
		"", "\n", strings.Repeat("y", protocol.MaxLine), strings.Repeat("z", protocol.MaxLine+1),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := &replies{}
		s := &controlServer{h: idleHost{}, out: newOutbox(), buildDir: build, done: make(chan struct{})}
		var wg sync.WaitGroup
		wg.Add(1)
		go s.out.run(s.done, &wg)
		s.out.conns <- out
		defer func() {
			close(s.done)
			wg.Wait()
		}()

		s.serve(&input{r: bytes.NewReader(in)})
		want := lines(in)
		for deadline := time.Now().Add(5 * time.Second); out.count() < want; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d replies to %d lines", out.count(), want)
			}
		}
		time.Sleep(time.Millisecond) // a reply too many would come now
		got := out.lines()
		if len(got) != want {
			t.Fatalf("%d replies to %d lines", len(got), want)
		}
		for _, l := range got {
			var rep protocol.Reply
			if err := json.Unmarshal(l, &rep); err != nil {
				t.Fatalf("reply %q: %v", l, err)
			}
		}
	})
}

// lines counts the lines the command loop answers in b: each that '\n'
// ends, and the bytes after the last, unless they are more than a line may
// hold (the connection ended in the middle of a line too long to read).
func lines(b []byte) int {
	n := 0
	segs := bytes.Split(b, []byte("\n"))
	for i, seg := range segs {
		last := i == len(segs)-1
		switch {
		case last && (len(seg) == 0 || len(seg) > protocol.MaxLine):
			continue // nothing after the last line, or a line cut short
		case !last && len(seg)+1 > protocol.MaxLine:
			n++ // too long: answered as such
			continue
		}
		n++
	}
	return n
}

// idleHost is a host that does every command at once and well, and stops
// when hotrun's connection ends.
type idleHost struct{}

func (idleHost) load(string, int) error      { return nil }
func (idleHost) activate(int) error          { return nil }
func (idleHost) snapshot() error             { return nil }
func (idleHost) stop(time.Duration) error    { return nil }
func (idleHost) takeover(string, bool) error { return nil }
func (idleHost) checkState(string) error     { return nil }
func (idleHost) status() protocol.Reply {
	return protocol.Reply{Version: 1, Loaded: []int{1}, Serving: true}
}
func (idleHost) markStopped()            {}
func (idleHost) emit(protocol.Event)     {}
func (idleHost) handAgain()              {}
func (idleHost) orphaned() time.Duration { return 0 }

// input is hotrun's end of the connection as the command loop reads it:
// the fuzzer's bytes, then EOF.
type input struct {
	net.Conn // nil: only Read and Close are used
	r        *bytes.Reader
}

func (c *input) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *input) Close() error               { return nil }

// replies is the connection the outbox writes the replies to.
type replies struct {
	net.Conn            // nil: only Write is used
	mu       sync.Mutex // guards b: the outbox writes while the test reads
	b        bytes.Buffer
}

func (c *replies) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.Write(p)
}

func (c *replies) lines() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.b.Len() == 0 {
		return nil
	}
	return bytes.Split(bytes.TrimSuffix(c.b.Bytes(), []byte("\n")), []byte("\n"))
}

func (c *replies) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Count(c.b.Bytes(), []byte("\n"))
}
