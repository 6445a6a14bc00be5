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
	"slices"
	"sync"
	"time"

	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// Serve serves HTTP on ln with handler until hotrun asks the engine to stop
// (to restart it with its state carried over): then it stops accepting,
// lets the requests under way finish for hotrun's drain grace, cuts the
// ones still running (and the connections handlers took over), each
// reported, saves the state, and returns nil. Connections that arrive
// meanwhile wait in the listener's backlog for the next engine, since
// hotrun holds the socket (see Listen).
func (h *Host[T]) Serve(ln net.Listener, handler http.Handler) error {
	if handler == nil {
		handler = http.DefaultServeMux // as http.Serve does
	}
	srv := &http.Server{
		// Each connection knows the request it serves, or the one that
		// took it over: a drain that cuts it says which.
		Handler: trackRequests(handler),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		ConnState: func(c net.Conn, st http.ConnState) {
			if tc, ok := c.(*trackConn); ok && st == http.StateHijacked {
				tc.taken()
			}
		},
	}
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

// Drain: how long a stop lets the requests under way finish when hotrun
// gives no grace, and how long the final save then waits for the ones it
// cut to let go of the state.
const (
	defaultDrain = time.Second
	cutWait      = time.Second
)

// stop is hotrun's "stop" command: stop accepting (hotrun holds the socket,
// so new connections wait for the next engine), cut at once the requests
// that have already run longer than grace (a stream, a long poll: they
// won't end in time, and every other request waits for the next engine
// meanwhile), let the others finish for up to grace, cut the ones still
// running, each reported, save the state, then let Serve return.
func (h *Host[T]) stop(grace time.Duration) error {
	if grace <= 0 {
		grace = defaultDrain
	}
	var err error
	h.stopOnce.Do(func() {
		close(h.stopping)
		h.srvMu.Lock()
		servers := h.servers
		h.srvMu.Unlock()
		expired := make(chan struct{}) // closed when the grace is over: every wait below sees it
		t := time.AfterFunc(grace, func() { close(expired) })
		defer t.Stop()
		// Not http.Server.Shutdown: it drops, unanswered, a request that
		// arrives on a connection accepted just before (the client sees
		// EOF). Instead: stop accepting, turn keep-alives off so every
		// connection closes after its answer (idle ones at once), and
		// wait for them.
		for _, s := range servers {
			s.ln.Listener.Close()
			s.srv.SetKeepAlivesEnabled(false)
		}
		h.cut(func(u *unit) bool { return time.Since(u.start) >= grace })
		for _, s := range servers {
			select {
			case <-s.done:
			case <-expired:
			}
		}
		select {
		case <-h.conns.idle():
		case <-expired:
			h.cut(func(*unit) bool { return true })
		}
		for _, s := range servers {
			s.srv.Close()
		}
		err = h.save(cutWait)
	})
	return err
}

// cut closes the connections whose request (the one under way, or the one
// that took the connection over: a websocket) long says to cut, and
// reports each. Idle connections are left to close by themselves. Units
// run by Run have no connection to cut: they end on their own, and the
// final save waits for them.
func (h *Host[T]) cut(long func(*unit) bool) {
	now := time.Now()
	for _, c := range h.conns.list() {
		u, hijacked := c.under()
		if u == nil || !long(u) {
			continue
		}
		h.emit(protocol.RequestCut{Method: u.method, Path: u.path, Duration: protocol.Duration(now.Sub(u.start)), Version: u.ver, Hijacked: hijacked})
		c.Close()
	}
}

// connKey is the request context's key for the connection it came on.
type connKey struct{}

// trackRequests notes on each connection the request it serves.
func trackRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tc, ok := r.Context().Value(connKey{}).(*trackConn)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		path := r.URL.Path
		if r.URL.RawQuery != "" {
			path += "?" + r.URL.RawQuery
		}
		u := &unit{method: r.Method, path: path, start: time.Now()}
		if rec, ok := w.(*statusRecorder); ok && rec.unit != nil {
			u.ver = rec.unit.ver
		}
		tc.serving(u)
		defer tc.serving(nil)
		next.ServeHTTP(w, r)
	})
}

// snapWait is how long a periodic snapshot of a state that can't lock
// itself holds new requests back while it waits for the ones under way.
const snapWait = 500 * time.Millisecond

// snapshot writes the state to hotrun's state file atomically: a crash
// mid-write leaves the previous snapshot whole.
func (h *Host[T]) snapshot() error { return h.save(snapWait) }

// save is snapshot, waiting up to wait for the work under way when the
// state can't lock itself.
func (h *Host[T]) save(wait time.Duration) error {
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
	if err := h.encodeState(&buf, wait); err != nil {
		return fmt.Errorf("hot: snapshot: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	if sum == h.lastSnap {
		return nil // nothing changed since the last one: keep the disk quiet
	}
	if err := writeFile(h.statePath, buf.Bytes()); err != nil {
		return fmt.Errorf("hot: snapshot: %w", err)
	}
	h.lastSnap = sum
	h.emit(protocol.StateSaved{Bytes: buf.Len(), Duration: protocol.Duration(time.Since(start))})
	return nil
}

// writeFile writes b to path atomically.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".snapshot-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// encodeState writes the state so that no request can tear it: a
// Config.Save or a json.Marshaler takes the state's own lock (that is the
// documented contract); a state that is a sync.Locker (or has RLock) is
// locked around the encoding; any other state is encoded while no request
// or unit runs on it (see work.quiesce), waiting up to wait for them.
func (h *Host[T]) encodeState(buf *bytes.Buffer, wait time.Duration) (err error) {
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
		release, err := h.work.quiesce(wait)
		if err != nil {
			return err
		}
		defer release()
	}
	return json.NewEncoder(buf).Encode(h.cfg.State)
}

// keepRejected is how many snapshots that could not be restored are kept
// beside the state file; older ones go.
const keepRejected = 5

// restore reads the snapshot at path into the state. When it can't (or
// the decoding panics), the file is set aside under a name of its own
// (snapshot.json.rejected-TIME), never overwritten, and the error says
// what failed and where the file is. Strict, the state stays as it was:
// the engine before, of another build, may still serve it. Otherwise the
// engine starts fresh.
func (h *Host[T]) restore(path string, strict bool) error {
	if h.cfg.State == nil && h.cfg.Restore == nil {
		return nil
	}
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // nothing saved yet: a crash before the first snapshot
	}
	var b []byte
	if err == nil {
		b, err = os.ReadFile(path)
	}
	if err == nil {
		err = h.decodeState(b, false)
	}
	if err != nil {
		kept := setAside(path)
		msg, explain := h.unreadable(b, err)
		h.emit(protocol.StateRestored{Bytes: len(b), Error: msg, Kept: kept})
		if strict {
			return &stateError{msg: msg, explain: explain, kept: kept}
		}
		return nil
	}
	h.emit(protocol.StateRestored{Bytes: len(b), Saved: fi.ModTime()})
	return nil
}

// setAside renames a snapshot that could not be restored to a name of its
// own, keeping the newest keepRejected of them, and returns its new path
// (path itself if it could not be renamed).
func setAside(path string) string {
	kept := path + ".rejected-" + time.Now().Format("20060102-150405.000000000")
	if err := os.Rename(path, kept); err != nil {
		return path
	}
	old, _ := filepath.Glob(path + ".rejected-*")
	slices.Sort(old) // the names sort by time
	for len(old) > keepRejected {
		os.Remove(old[0])
		old = old[1:]
	}
	return kept
}

// checkState is hotrun's "check-state" command: decode the snapshot at
// path as this engine would at its takeover, without taking it, so that
// the engine serving lets go of its state only for one that can read it.
func (h *Host[T]) checkState(path string) error {
	if (h.cfg.State == nil && h.cfg.Restore == nil) || path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil {
		// The state is not this engine's yet (it has not taken over): a
		// Config.Restore may write it, and the takeover restores it again.
		err = h.decodeState(b, true)
	}
	if err != nil {
		msg, explain := h.unreadable(b, err)
		return &stateError{msg: msg, explain: explain}
	}
	return nil
}

// stateError is a snapshot this engine can't read.
type stateError struct {
	msg, explain string
	kept         string // where the snapshot is kept; "" when not moved
}

func (e *stateError) Error() string { return e.msg }

// unreadable says, in one sentence and an explanation with the fix, why
// the state can't be read from b.
func (h *Host[T]) unreadable(b []byte, err error) (msg, explain string) {
	typ := "the state"
	if h.cfg.State != nil {
		typ = reflect.TypeOf(h.cfg.State).String()
	}
	where := decodeFailure(h.cfg.State, b, err)
	msg = fmt.Sprintf("This engine can't read the saved state into %s: %s.", typ, where)
	explain = "Revert the change to the state's types, or have them read the old shape too (an UnmarshalJSON on the type, or Config.Restore), and save."
	return msg, explain
}

// decodeFailure says where decoding b into state failed: the field and
// the types for a type mismatch, else the field found by decoding each
// field alone, else the decoder's words.
func decodeFailure(state any, b []byte, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		field := te.Field
		if te.Struct != "" {
			field = te.Struct + "." + te.Field
		}
		return fmt.Sprintf("field %s is %s now, and the snapshot holds a JSON %s there", field, te.Type, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "the snapshot is not valid JSON (" + err.Error() + ")"
	}
	if state != nil {
		if f := failingField(reflect.TypeOf(state), b); f != "" {
			return "field " + f + ": " + err.Error()
		}
	}
	return err.Error()
}

// failingField finds the field of struct type t (or what t points to)
// that fails to decode from b, by decoding each field alone with its own
// tags; "" when t decodes itself (an UnmarshalJSON) or no field alone
// fails.
func failingField(t reflect.Type, b []byte) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return ""
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		one := reflect.StructOf([]reflect.StructField{{Name: f.Name, Type: f.Type, Tag: f.Tag}})
		if json.Unmarshal(b, reflect.New(one).Interface()) != nil {
			return t.Name() + "." + f.Name
		}
	}
	return ""
}

// decodeState runs Config.Restore or decodeInto, turning a panic into an
// error. A trial only decodes: encoding/json into a fresh value.
func (h *Host[T]) decodeState(b []byte, trial bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("restoring the state panicked: %v", r)
		}
	}()
	if h.cfg.Restore != nil {
		return h.cfg.Restore(bytes.NewReader(b))
	}
	return decodeInto(b, h.cfg.State, trial)
}

// decodeInto unmarshals b into state only if it unmarshals whole into a
// fresh value of the same type first: a snapshot that fails halfway must
// not leave the engine with half of it. A trial stops after the first.
func decodeInto(b []byte, state any, trial bool) error {
	t := reflect.TypeOf(state)
	if t.Kind() != reflect.Pointer {
		return fmt.Errorf("hot: Config.State is a %s; it must be a pointer", t)
	}
	if err := json.Unmarshal(b, reflect.New(t.Elem()).Interface()); err != nil || trial {
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
