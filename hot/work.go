package hot

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// unit is one request or unit of work under way on the state: run by
// Handler or Run.
type unit struct {
	method string // "" for a unit run by Run
	path   string // the request's path and query, or the unit's name
	start  time.Time
	ver    int
}

func (u *unit) String() string {
	what := u.path
	if u.method != "" {
		what = u.method + " " + u.path
	}
	return fmt.Sprintf("%s (running for %s)", what, time.Since(u.start).Round(time.Millisecond))
}

// work tracks the requests and units under way. A snapshot of a state
// that can't lock itself waits for them to end, holding new ones back
// meanwhile, so that it never reads the state while one changes it; a
// drain reports the ones still running when it cuts them.
//
// Unlike a sync.RWMutex, it never holds new work back for long: a
// snapshot that would have to wait past its deadline for a long request
// (a stream, a long poll, a slow export) gives up at once, and says which
// request held it, instead of stalling every other one behind it.
type work struct {
	mu      sync.Mutex     // guards the fields below
	running pending[*unit] // under way
	paused  chan struct{}  // non-nil while a snapshot holds new work back; closed when it lets go
}

// enter registers u, once no snapshot holds new work back.
func (w *work) enter(u *unit) {
	w.mu.Lock()
	for w.paused != nil {
		p := w.paused
		w.mu.Unlock()
		<-p
		w.mu.Lock()
	}
	w.running.add(u)
	w.mu.Unlock()
}

// leave ends u.
func (w *work) leave(u *unit) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running.remove(u)
}

// busyError says which unit kept a snapshot from reading the state.
type busyError struct{ u string }

func (e *busyError) Error() string {
	return "the state is in use by " + e.u + ": a request or unit that runs this long keeps the state from being saved; make the state a sync.Locker (or a json.Marshaler that takes its own lock), or keep long-lived connections in the engine and run each message with Run"
}

// quiesce holds new work back until the work under way has ended, for up
// to wait, and returns the function that lets new work go on. Work that
// has already run longer than wait is not waited for: quiesce fails at
// once, and nothing is held back.
func (w *work) quiesce(wait time.Duration) (release func(), err error) {
	w.mu.Lock()
	if u := w.oldest(); u != nil && time.Since(u.start) > wait {
		w.mu.Unlock()
		return nil, &busyError{u.String()}
	}
	paused := make(chan struct{})
	w.paused = paused
	release = func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.paused == paused {
			w.paused = nil
			close(paused)
		}
	}
	if len(w.running.set) == 0 {
		w.mu.Unlock()
		return release, nil
	}
	idle := w.running.empty()
	w.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-idle:
		return release, nil
	case <-t.C:
		w.mu.Lock()
		held := w.oldest()
		w.mu.Unlock()
		release()
		if held == nil {
			return nil, &busyError{"work that just ended"}
		}
		return nil, &busyError{held.String()}
	}
}

// oldest returns the unit under way that started first; w.mu is held.
func (w *work) oldest() *unit {
	var old *unit
	for u := range w.running.set {
		if old == nil || u.start.Before(old.start) {
			old = u
		}
	}
	return old
}

// pending is a set of things under way, with a channel closed when it
// empties: a snapshot waits on it for the work under way, a drain for the
// connections open. Its owner's mutex guards it.
type pending[K comparable] struct {
	set  map[K]struct{}
	zero chan struct{} // closed when set empties; nil while nobody waits
}

func (p *pending[K]) add(k K) {
	if p.set == nil {
		p.set = make(map[K]struct{})
	}
	p.set[k] = struct{}{}
}

func (p *pending[K]) remove(k K) {
	delete(p.set, k)
	if len(p.set) == 0 && p.zero != nil {
		close(p.zero)
		p.zero = nil
	}
}

// empty returns a channel closed once the set is empty: at once when it
// is now.
func (p *pending[K]) empty() <-chan struct{} {
	if len(p.set) == 0 {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	if p.zero == nil {
		p.zero = make(chan struct{})
	}
	return p.zero
}

// conns tracks the connections Serve accepted, from Accept to Close: a
// drain waits for them to close, and cuts the ones still open at its end.
type conns struct {
	mu   sync.Mutex          // guards open
	open pending[*trackConn] // accepted and not yet closed
}

func (c *conns) add(tc *trackConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.open.add(tc)
}

func (c *conns) done(tc *trackConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.open.remove(tc)
}

// idle returns a channel closed once no connection is open.
func (c *conns) idle() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open.empty()
}

// list returns the connections open now.
func (c *conns) list() []*trackConn {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*trackConn, 0, len(c.open.set))
	for tc := range c.open.set {
		out = append(out, tc)
	}
	return out
}

// trackListener counts the connections it accepts until they are closed.
type trackListener struct {
	net.Listener
	conns *conns
}

func (l *trackListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackConn{Conn: c, conns: l.conns}
	l.conns.add(tc)
	return tc, nil
}

// trackConn is one connection Serve accepted, with the request it serves
// now, or the one that took it over (Hijack: a websocket, a raw stream):
// the drain's report when it cuts the connection.
type trackConn struct {
	net.Conn
	once  sync.Once
	conns *conns

	mu       sync.Mutex // guards current and hijacked
	current  *unit      // the request under way on it; nil between requests
	hijacked *unit      // the request that took the connection over; nil while net/http owns it
}

func (c *trackConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.conns.done(c) })
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

func (c *trackConn) serving(u *unit) {
	c.mu.Lock()
	c.current = u
	c.mu.Unlock()
}

// taken notes that the request under way took the connection over.
func (c *trackConn) taken() {
	c.mu.Lock()
	c.hijacked = c.current
	c.mu.Unlock()
}

// under returns what the connection serves: the request under way, or the
// one that took it over (then hijacked is true); nil when idle.
func (c *trackConn) under() (u *unit, hijacked bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hijacked != nil {
		return c.hijacked, true
	}
	return c.current, false
}
