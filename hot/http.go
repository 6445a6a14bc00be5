package hot

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// Handler returns an http.Handler that runs fn on the current version. The
// version is read once per request, so a request runs start to end on one
// version even while another is swapped in. A panic in fn is recovered,
// reported as an event and answered with 500; the engine keeps serving.
// Before the first version loads, a request waits for it up to
// firstLoadWait (a restarted engine gets the connections that queued while
// it started), then gets 503.
func (h *Host[T]) Handler(fn func(w http.ResponseWriter, r *http.Request, logic T)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		v := h.cur.Load()
		if v == nil && h.out != nil {
			select {
			case <-h.firstLoad:
			case <-r.Context().Done():
			case <-time.After(firstLoadWait):
			}
			v = h.cur.Load()
		}
		path := r.URL.Path
		if r.URL.RawQuery != "" {
			path += "?" + r.URL.RawQuery
		}
		rec := &statusRecorder{ResponseWriter: w}
		n := 0
		if v == nil {
			http.Error(rec, "no logic version is loaded yet", http.StatusServiceUnavailable)
		} else {
			n = v.n
			rec.unit = &unit{method: r.Method, path: path, start: start, ver: n}
			h.serve(rec, r, v, fn)
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		h.emit(protocol.Request{
			Method:   r.Method,
			Path:     path,
			Status:   status,
			Duration: protocol.Duration(time.Since(start)),
			Version:  n,
		})
	})
}

func (h *Host[T]) serve(rec *statusRecorder, r *http.Request, v *version[T], fn func(http.ResponseWriter, *http.Request, T)) {
	defer func() {
		p := recover()
		if p == nil || p == http.ErrAbortHandler {
			if p != nil {
				panic(p)
			}
			return
		}
		h.emit(protocol.Panic{Version: v.n, Value: fmt.Sprint(p), Where: panicSite(debug.Stack())})
		if rec.status == 0 {
			http.Error(rec, "internal error: the logic panicked", http.StatusInternalServerError)
		}
		rec.status = http.StatusInternalServerError
	}()
	h.work.enter(rec.unit)
	defer h.work.leave(rec.unit)
	fn(rec, r, v.value)
}

// Run runs one unit of work that is not an HTTP request (a game tick, a
// message from a queue, a line from a TCP client) on the current version,
// under the same rules as Handler: the version is read once, so the unit
// runs start to end on it; a panic in fn is recovered and returned as an
// error; and the unit shows in hotrun's request log with name, duration,
// version and outcome. A snapshot of the state never runs in the middle of
// a unit. Before the first version loads, Run returns an error at once.
// Don't call Run from a function that Handler runs, or Run from Run: the
// request already runs on one version, and a snapshot waiting between the
// two would wait forever.
func (h *Host[T]) Run(name string, fn func(logic T) error) (err error) {
	start := time.Now()
	v := h.cur.Load()
	if v == nil {
		return errors.New("hot: run " + name + ": no logic version is loaded yet")
	}
	defer func() {
		if p := recover(); p != nil {
			h.emit(protocol.Panic{Version: v.n, Value: fmt.Sprint(p), Where: panicSite(debug.Stack())})
			err = fmt.Errorf("hot: run %s: the logic panicked: %v", name, p)
		}
		u := protocol.Unit{Unit: name, Duration: protocol.Duration(time.Since(start)), Version: v.n}
		if err != nil {
			u.Error = err.Error()
		}
		h.emit(u)
	}()
	u := &unit{path: name, start: start, ver: v.n}
	h.work.enter(u)
	defer h.work.leave(u)
	return fn(v.value)
}

// panicSite returns the first frame of stack below the runtime's panic
// machinery: the function and file:line that panicked.
func panicSite(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i := 0; i+1 < len(lines); i++ {
		if strings.HasPrefix(lines[i], "panic(") {
			if i+3 < len(lines) {
				fn := lines[i+2]
				if j := strings.LastIndex(fn, "("); j > 0 {
					fn = fn[:j]
				}
				return fn + " " + strings.TrimSpace(strings.Split(lines[i+3], " +")[0])
			}
		}
	}
	return "unknown"
}

// firstLoadWait is how long a request to an engine under hotrun waits for
// the first version to load before it is answered 503.
const firstLoadWait = 30 * time.Second

// statusRecorder remembers the status a handler wrote, and which request
// took its connection over, if one did.
type statusRecorder struct {
	http.ResponseWriter
	status int
	unit   *unit // the request, as the drain reports it if it cuts it
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush sends what the handler wrote so far: streams (server-sent events)
// that assert http.Flusher work through Handler.
func (r *statusRecorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	http.NewResponseController(r.ResponseWriter).Flush()
}

// Hijack hands the connection to the handler (a websocket upgrade):
// handlers that assert http.Hijacker work through Handler.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return c, rw, nil
}
