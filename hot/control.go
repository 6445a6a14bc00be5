package hot

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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// commander is what the control server asks of a Host, whatever its T.
type commander interface {
	load(path string, n int) error
	activate(n int) error
	snapshot() error
	stop(grace time.Duration) error
	takeover(statePath string, strict bool) error
	checkState(statePath string) error
	status() protocol.Reply
	markStopped()
	emit(protocol.Event)
	handAgain()
	orphaned() time.Duration
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

	connMu sync.Mutex // guards conn
	conn   net.Conn   // the connection being served; closed by close to end serve

	conns atomic.Int64 // counts the connections served: an orphan that gets one is attached again
}

func listenControl[T any](path string, h *Host[T]) (*controlServer, error) {
	// A stale socket from a crashed engine would make Listen fail; the
	// directory is hotrun's private one, so removing it is safe.
	os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("hot: control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("hot: control socket: %w", err)
	}
	s := &controlServer{ln: ln, h: h, out: h.out, buildDir: h.buildDir, done: make(chan struct{})}
	s.wg.Add(2)
	go s.accept()
	go s.out.run(s.done, &s.wg)
	return s, nil
}

func (s *controlServer) close() error {
	s.out.flush(time.Second)
	close(s.done)
	err := s.ln.Close()
	s.connMu.Lock()
	if s.conn != nil {
		s.conn.Close()
	}
	s.connMu.Unlock()
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
		// A hotrun that connects after the first (which died: the engine
		// served on as an orphan) holds none of the engine's listeners.
		if s.conns.Add(1) > 1 {
			s.h.handAgain()
		}
		// One hotrun at a time: a new connection replaces the old one.
		if !s.setConn(c) {
			c.Close()
			return
		}
		s.serve(c)
		if !s.setConn(nil) {
			return
		}
	}
}

// setConn hands the writer its connection; false when the server is
// closing and the writer gone.
func (s *controlServer) setConn(c net.Conn) bool {
	s.connMu.Lock()
	s.conn = c
	s.connMu.Unlock()
	select {
	case s.out.conns <- c:
		return true
	case <-s.done:
		return false
	}
}

// serve reads commands from c until it closes. A malformed or oversized
// line is answered with an error; it never ends the engine. Each command
// runs on its own goroutine: hotrun waits for the replies it depends on.
// When hotrun's connection ends without a stop (hotrun was killed), the
// engine is an orphan (see orphan).
func (s *controlServer) serve(c net.Conn) {
	defer func() {
		c.Close()
		select {
		case <-s.done:
		default:
			s.orphan()
		}
	}()
	r := bufio.NewReaderSize(c, 4096)
	for {
		line, err := readLine(r, protocol.MaxLine)
		if errors.Is(err, errLineTooLong) {
			s.out.reply(protocol.Reply{Error: fmt.Sprintf("command longer than %d bytes", protocol.MaxLine)})
			continue
		}
		if err != nil {
			return
		}
		var cmd protocol.Command
		if err := json.Unmarshal(line, &cmd); err != nil {
			s.out.reply(protocol.Reply{Error: "malformed command: " + err.Error()})
			continue
		}
		go func() {
			if rep, ok := s.run(cmd); ok {
				s.out.reply(rep)
			}
		}()
	}
}

// orphan decides the fate of an engine whose hotrun went away without a
// stop. One that serves saves its state and serves on for its orphan
// grace, so that a hotrun started meanwhile takes it over (same process,
// same connections); if none connects in time, it stops as if asked:
// drains, saves its state, and Serve returns. One that never served (a
// standby) stops at once.
func (s *controlServer) orphan() {
	grace := s.h.orphaned()
	if grace <= 0 {
		go func() {
			s.h.stop(0)
			s.h.markStopped()
		}()
		return
	}
	served := s.conns.Load()
	go func() {
		s.h.snapshot()
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			if s.conns.Load() == served { // nobody attached
				s.h.stop(0)
				s.h.markStopped()
			}
		case <-s.done:
		}
	}()
}

// run runs one command and returns its reply, or false when it has sent
// the reply itself (a stop: before the engine exits).
func (s *controlServer) run(cmd protocol.Command) (protocol.Reply, bool) {
	var err error
	switch cmd.Op {
	case "ping":
	case "status":
		rep := s.h.status()
		rep.Reply = cmd.ID
		rep.Library = protocol.LibraryVersion()
		return rep, true
	case "load":
		if err = within(s.buildDir, cmd.Path); err == nil {
			err = s.h.load(cmd.Path, cmd.Version)
		} else {
			s.h.emit(protocol.LoadFail{Version: cmd.Version, Error: err.Error(), Explain: explain(err), Code: code(err)})
		}
	case "activate":
		err = s.h.activate(cmd.Version)
	case "check-state":
		err = s.h.checkState(cmd.Path)
	case "takeover":
		err = s.h.takeover(cmd.Path, cmd.Strict)
	case "snapshot":
		err = s.h.snapshot()
	case "stop":
		// The reply must reach hotrun before Serve returns and the engine
		// exits: stop, reply, flush, and only then let Serve go.
		err = s.h.stop(time.Duration(cmd.Grace))
		rep := protocol.Reply{Reply: cmd.ID}
		if err != nil {
			rep.Error = err.Error()
		}
		s.out.reply(rep)
		s.out.flush(5 * time.Second)
		s.h.markStopped()
		return protocol.Reply{}, false
	default:
		err = fmt.Errorf("hot: %w %q", errUnknownCommand, cmd.Op)
	}
	var se *stateError
	switch {
	case errors.As(err, &se):
		return protocol.Reply{Reply: cmd.ID, Error: se.msg, Code: protocol.CodeStateUnreadable, Explain: se.explain, Path: se.kept}, true
	case err != nil:
		return protocol.Reply{Reply: cmd.ID, Error: err.Error(), Code: code(err), Explain: explain(err)}, true
	}
	return protocol.Reply{Reply: cmd.ID}, true
}

// within reports an error unless path names a file inside dir, after
// resolving symlinks: the engine only loads what hotrun built.
func within(dir, path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("hot: load %q: %w (not an absolute path)", path, errOutsideBuild)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("hot: build directory: %w", err)
	}
	realPath, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("hot: load %q: %w", path, err)
	}
	rel, err := filepath.Rel(realDir, realPath)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("hot: load %q: %w", path, errOutsideBuild)
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
// one goroutine, so a slow reader never blocks a request handler. Lines
// queued before hotrun connects wait for it.
type outbox struct {
	msgs  chan outMsg   // queued messages; requests are dropped when it is full
	conns chan net.Conn // a new connection for the writer (nil: the old one is gone)
}

// outMsg is one line to send, or a flush marker.
type outMsg struct {
	line  []byte
	file  *os.File      // sent with the line as SCM_RIGHTS, then closed
	flush chan struct{} // closed by the writer when it reaches this message
}

func newOutbox() *outbox {
	return &outbox{msgs: make(chan outMsg, 8192), conns: make(chan net.Conn)}
}

func (o *outbox) event(e protocol.Event) {
	b, err := protocol.Marshal(time.Now(), e)
	if err != nil {
		return
	}
	switch e.(type) {
	case protocol.Request, protocol.Unit:
		select {
		case o.msgs <- outMsg{line: b}:
		default: // hotrun is behind: drop a request line rather than slow the app
		}
		return
	}
	select {
	case o.msgs <- outMsg{line: b}:
	case <-time.After(time.Second): // the queue is stuck full: don't hang a load
	}
}

func (o *outbox) reply(r protocol.Reply) {
	b, _ := json.Marshal(r)
	o.msgs <- outMsg{line: b}
}

// file queues f to be handed to hotrun with a Listener line.
func (o *outbox) file(name string, f *os.File) {
	b, _ := json.Marshal(protocol.Listener{Listener: name})
	o.msgs <- outMsg{line: b, file: f}
}

// flush waits until everything queued so far is written, or d passes.
func (o *outbox) flush(d time.Duration) {
	done := make(chan struct{})
	select {
	case o.msgs <- outMsg{flush: done}:
	case <-time.After(d):
		return
	}
	select {
	case <-done:
	case <-time.After(d):
	}
}

func (o *outbox) run(done <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	var conn net.Conn
	w := bufio.NewWriterSize(nil, 64<<10)
	for {
		if conn == nil {
			// Hold the queue until hotrun is there to read it.
			select {
			case conn = <-o.conns:
				w.Reset(conn)
			case <-done:
				return
			}
			continue
		}
		select {
		case c := <-o.conns:
			conn = c
			w.Reset(c)
		case <-done:
			w.Flush()
			return
		case m := <-o.msgs:
			o.write(w, conn, m)
			// Batch whatever else is queued into the same write.
			for more := true; more; {
				select {
				case m := <-o.msgs:
					o.write(w, conn, m)
				default:
					more = false
				}
			}
			w.Flush()
		}
	}
}

func (o *outbox) write(w *bufio.Writer, conn net.Conn, m outMsg) {
	switch {
	case m.flush != nil:
		w.Flush()
		close(m.flush)
	case m.file != nil:
		w.Flush()
		// Not m.file.Fd(): it would switch the socket, which the engine's own
		// listener shares, to blocking mode, and a blocked accept(2) is
		// not woken by Close, so the engine would take one more connection
		// after shutting down and drop it.
		if uc, ok := conn.(*net.UnixConn); ok {
			if rc, err := m.file.SyscallConn(); err == nil {
				rc.Control(func(fd uintptr) {
					uc.WriteMsgUnix(append(m.line, '\n'), syscall.UnixRights(int(fd)), nil)
				})
			}
		}
		m.file.Close()
	default:
		w.Write(m.line)
		w.WriteByte('\n')
	}
}
