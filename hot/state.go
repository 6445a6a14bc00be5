package hot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"time"

	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// Serve serves HTTP on ln with handler until hotrun asks the engine to stop
// (to restart it with its state carried over): then it stops accepting,
// lets the requests under way finish, saves the state, and returns nil.
// Connections that arrive meanwhile wait in the listener's backlog for the
// next engine, since hotrun holds the socket (see Listen).
func (h *Host[T]) Serve(ln net.Listener, handler http.Handler) error {
	srv := &http.Server{Handler: handler}
	// Count connections from Accept to Close: a stop waits for every one,
	// so no request that reached this engine is dropped.
	tl := &trackListener{Listener: ln, conns: &h.conns}
	s := &server{srv: srv, ln: tl, done: make(chan struct{})}
	h.srvMu.Lock()
	h.servers = append(h.servers, s)
	h.srvMu.Unlock()
	err := srv.Serve(tl)
	close(s.done)
	select {
	case <-h.stopping:
		<-h.stopped
		return nil
	default:
		return err
	}
}

// Stopping is closed when hotrun asks the engine to stop. An engine that
// doesn't use Serve (a game loop, a custom server) returns from main when it
// is closed; its state has been saved by then.
func (h *Host[T]) Stopping() <-chan struct{} { return h.stopping }

// markStopped lets Serve return: the stop is complete and hotrun has the
// reply.
func (h *Host[T]) markStopped() {
	select {
	case <-h.stopped:
	default:
		close(h.stopped)
	}
}

// stop is hotrun's "stop" command: drain the servers, save the state,
// then let Serve return.
func (h *Host[T]) stop() error {
	var err error
	h.stopOnce.Do(func() {
		close(h.stopping)
		h.srvMu.Lock()
		servers := h.servers
		h.srvMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Not http.Server.Shutdown: it drops, unanswered, a request that
		// arrives on a connection accepted just before (the client sees
		// EOF). Instead: stop accepting (hotrun holds the socket, so new
		// connections wait for the next engine), turn keep-alives off so
		// every connection closes after its answer, and wait for them.
		for _, s := range servers {
			s.ln.Listener.Close()
			s.srv.SetKeepAlivesEnabled(false)
			select {
			case <-s.done:
			case <-ctx.Done():
			}
		}
		select {
		case <-h.conns.idle():
		case <-ctx.Done():
		}
		for _, s := range servers {
			s.srv.Close()
		}
		err = h.snapshot()
	})
	return err
}

// snapshot writes the state to hotrun's state file atomically: a crash
// mid-write leaves the previous snapshot whole.
func (h *Host[T]) snapshot() error {
	if h.cfg.State == nil && h.cfg.Save == nil {
		return nil
	}
	if h.statePath == "" {
		return errors.New("hot: snapshot: hotrun gave no state file")
	}
	h.snapMu.Lock()
	defer h.snapMu.Unlock()
	start := time.Now()
	var buf bytes.Buffer
	if err := h.encodeState(&buf); err != nil {
		return fmt.Errorf("hot: snapshot: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	if sum == h.lastSnap {
		return nil // nothing changed since the last one: keep the disk quiet
	}
	tmp, err := os.CreateTemp(filepath.Dir(h.statePath), ".snapshot-*")
	if err != nil {
		return fmt.Errorf("hot: snapshot: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("hot: snapshot: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("hot: snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("hot: snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), h.statePath); err != nil {
		return fmt.Errorf("hot: snapshot: %w", err)
	}
	h.lastSnap = sum
	h.emit(protocol.StateSaved{Bytes: buf.Len(), Duration: protocol.Duration(time.Since(start))})
	return nil
}

// encodeState writes the state so that no request can tear it: a
// Config.Save or a json.Marshaler takes the state's own lock (that is the
// documented contract); a state that is a sync.Locker (or has RLock) is
// locked around the encoding; any other state is encoded while no request
// or unit runs on it (they hold h.quiet for reading).
func (h *Host[T]) encodeState(buf *bytes.Buffer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("saving the state panicked: %v", r)
		}
	}()
	if h.cfg.Save != nil {
		return h.cfg.Save(buf)
	}
	switch st := h.cfg.State.(type) {
	case json.Marshaler:
	case interface {
		RLock()
		RUnlock()
	}:
		st.RLock()
		defer st.RUnlock()
	case sync.Locker:
		st.Lock()
		defer st.Unlock()
	default:
		h.quiet.Lock()
		defer h.quiet.Unlock()
	}
	return json.NewEncoder(buf).Encode(h.cfg.State)
}

// restore reads the snapshot at path into the state. When it can't (or
// the decoding panics), the engine starts fresh and the file is set aside,
// renamed, for the user to look at: the next snapshot must not overwrite
// the evidence, and the next engine must not trip on it again.
func (h *Host[T]) restore(path string) {
	if h.cfg.State == nil && h.cfg.Restore == nil {
		return
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return // nothing saved yet: a crash before the first snapshot
	}
	var b []byte
	if err == nil {
		b, err = os.ReadFile(path)
	}
	if err == nil {
		err = h.decodeState(b)
	}
	if err != nil {
		kept := path + ".rejected"
		if rerr := os.Rename(path, kept); rerr != nil {
			kept = path
		}
		h.emit(protocol.StateRestored{Bytes: len(b), Error: err.Error(), Kept: kept})
		return
	}
	h.emit(protocol.StateRestored{Bytes: len(b), Saved: fi.ModTime()})
}

// decodeState runs Config.Restore or decodeInto, turning a panic into an
// error.
func (h *Host[T]) decodeState(b []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("restoring the state panicked: %v", r)
		}
	}()
	if h.cfg.Restore != nil {
		return h.cfg.Restore(bytes.NewReader(b))
	}
	return decodeInto(b, h.cfg.State)
}

// decodeInto unmarshals b into state only if it unmarshals whole into a
// fresh value of the same type first: a snapshot that fails halfway must
// not leave the engine with half of it.
func decodeInto(b []byte, state any) error {
	t := reflect.TypeOf(state)
	if t.Kind() != reflect.Pointer {
		return fmt.Errorf("hot: Config.State is a %s; it must be a pointer", t)
	}
	if err := json.Unmarshal(b, reflect.New(t.Elem()).Interface()); err != nil {
		return err
	}
	return json.Unmarshal(b, state)
}

// server is one http.Server started by Serve.
type server struct {
	srv  *http.Server
	ln   *trackListener
	done chan struct{} // closed when its Serve returned
}

// connCount counts open connections; idle tells when none is left.
type connCount struct {
	mu   sync.Mutex    // guards n and zero
	n    int           // connections accepted and not yet closed
	zero chan struct{} // closed when n drops to 0; nil while nobody waits
}

func (c *connCount) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *connCount) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
	if c.n == 0 && c.zero != nil {
		close(c.zero)
		c.zero = nil
	}
}

// idle returns a channel closed once no connection is open.
func (c *connCount) idle() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	if c.zero == nil {
		c.zero = make(chan struct{})
	}
	return c.zero
}

// trackListener counts the connections it accepts until they are closed.
type trackListener struct {
	net.Listener
	conns *connCount
}

func (l *trackListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.conns.add()
	return &trackConn{Conn: c, conns: l.conns}, nil
}

type trackConn struct {
	net.Conn
	once  sync.Once
	conns *connCount
}

func (c *trackConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.conns.done)
	return err
}

// CloseWrite lets net/http half-close a TCP connection before it closes
// it, as it does unwrapped, so a client never sees a reset.
func (c *trackConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
