package host

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// Command is one line hotrun sends to the engine over the control socket.
type Command struct {
	ID      int64  `json:"id"`
	Op      string `json:"op"` // "load", "activate" or "ping"
	Version int    `json:"version,omitempty"`
	Path    string `json:"path,omitempty"`
}

// Reply answers the Command with the same ID. The engine's other lines are
// events in hotrun's JSON form ({"time":…,"event":…,…}).
type Reply struct {
	Reply   int64  `json:"reply"`
	Error   string `json:"error,omitempty"`
	Explain string `json:"explain,omitempty"`
}

// MaxLine is the longest control line either side accepts; longer lines are
// rejected without reading them into memory.
const MaxLine = 64 << 10

// commander is what the control server asks of a Host, whatever its T.
type commander interface {
	load(path string, n int) error
	Activate(n int) error
	emit(event.Event)
}

// controlServer accepts hotrun's connection on the control socket and
// runs its commands, one at a time, in order.
type controlServer struct {
	ln       *net.UnixListener
	h        commander
	out      *outbox
	buildDir string
	done     chan struct{} // closed by close; ends the accept loop and the writer
	wg       sync.WaitGroup
}

func listenControl[T any](path string, h *Host[T]) (*controlServer, error) {
	// A stale socket from a crashed engine would make Listen fail; the
	// directory is hotrun's private one, so removing it is safe.
	os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("host: control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("host: control socket: %w", err)
	}
	s := &controlServer{ln: ln, h: h, out: h.out, buildDir: h.buildDir, done: make(chan struct{})}
	s.wg.Add(2)
	go s.accept()
	go s.out.run(s.done, &s.wg)
	return s, nil
}

func (s *controlServer) close() error {
	close(s.done)
	err := s.ln.Close()
	s.out.setConn(nil)
	s.wg.Wait()
	return err
}

func (s *controlServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			time.Sleep(10 * time.Millisecond) // e.g. EMFILE: don't spin
			continue
		}
		if err := checkPeer(c); err != nil {
			// Refused before a byte is read: only hotrun, as the engine's
			// own user, may steer the engine.
			fmt.Fprintf(os.Stderr, "hotrun: refused a control connection: %v\n", err)
			c.Close()
			continue
		}
		// One hotrun at a time: a new connection replaces the old one.
		s.out.setConn(c)
		s.serve(c)
	}
}

// serve reads commands from c until it closes. A malformed or oversized
// line is answered with an error; it never ends the engine.
func (s *controlServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 4096)
	for {
		line, err := readLine(r, MaxLine)
		if errors.Is(err, errLineTooLong) {
			s.out.reply(Reply{Error: fmt.Sprintf("command longer than %d bytes", MaxLine)})
			continue
		}
		if err != nil {
			return
		}
		var cmd Command
		if err := json.Unmarshal(line, &cmd); err != nil {
			s.out.reply(Reply{Error: "malformed command: " + err.Error()})
			continue
		}
		s.out.reply(s.run(cmd))
	}
}

func (s *controlServer) run(cmd Command) Reply {
	var err error
	switch cmd.Op {
	case "ping":
	case "load":
		if err = within(s.buildDir, cmd.Path); err == nil {
			err = s.h.load(cmd.Path, cmd.Version)
		} else {
			s.h.emit(event.LoadFail{Version: cmd.Version, Error: err.Error(), Explain: Explain(err)})
		}
	case "activate":
		err = s.h.Activate(cmd.Version)
	default:
		err = fmt.Errorf("host: unknown command %q", cmd.Op)
	}
	if err != nil {
		return Reply{Reply: cmd.ID, Error: err.Error(), Explain: Explain(err)}
	}
	return Reply{Reply: cmd.ID}
}

// within reports an error unless path names a file inside dir, after
// resolving symlinks: the engine only loads what hotrun built.
func within(dir, path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("host: load %q: %w (not an absolute path)", path, errOutsideBuild)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("host: build directory: %w", err)
	}
	realPath, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("host: load %q: %w", path, err)
	}
	rel, err := filepath.Rel(realDir, realPath)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("host: load %q: %w", path, errOutsideBuild)
	}
	return nil
}

var errLineTooLong = errors.New("line too long")

// readLine reads one '\n'-terminated line of at most max bytes. A longer
// line is skipped to its end and reported as errLineTooLong.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > max {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				return nil, err
			}
			return nil, errLineTooLong
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				return line, nil
			}
			return nil, err
		}
		return line, nil
	}
}

// outbox queues the lines the engine sends to hotrun and writes them from
// one goroutine, so a slow reader never blocks a request handler.
type outbox struct {
	lines chan []byte // queued lines; requests are dropped when it is full
	mu    sync.Mutex  // guards conn
	conn  net.Conn    // hotrun's connection; nil while none
}

func newOutbox() *outbox { return &outbox{lines: make(chan []byte, 8192)} }

func (o *outbox) setConn(c net.Conn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.conn = c
}

func (o *outbox) event(e event.Event) {
	b, err := event.MarshalRecord(event.Record{Time: time.Now(), Event: e})
	if err != nil {
		return
	}
	if _, ok := e.(event.Request); ok {
		select {
		case o.lines <- b:
		default: // hotrun is behind: drop a request line rather than slow the app
		}
		return
	}
	select {
	case o.lines <- b:
	case <-time.After(time.Second): // no hotrun reading: don't hang a load
	}
}

func (o *outbox) reply(r Reply) {
	b, _ := json.Marshal(r)
	o.lines <- b
}

func (o *outbox) run(done <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	w := bufio.NewWriterSize(nil, 64<<10)
	for {
		select {
		case <-done:
			return
		case b := <-o.lines:
			o.mu.Lock()
			c := o.conn
			o.mu.Unlock()
			if c == nil {
				continue // nobody listening: the line is lost, as it would be on a closed pipe
			}
			w.Reset(c)
			w.Write(b)
			w.WriteByte('\n')
			// Batch whatever else is queued into the same write.
			for more := true; more; {
				select {
				case b := <-o.lines:
					w.Write(b)
					w.WriteByte('\n')
				default:
					more = false
				}
			}
			w.Flush()
		}
	}
}
