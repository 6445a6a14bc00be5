package hot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// oldShape and newShape are one state type before and after an edit that
// changes how a field is encoded: the reproduction of issue 18 (visits
// 7848 → 2, then lost for good).
type oldShape struct{ Visits int }

type newShape struct {
	Visits int `json:",string"`
}

// TestStateUnreadable: an engine that can't read the state says so with
// the field, before the engine serving lets go of it (check-state); a
// strict takeover refuses it and keeps the state as it was; every
// snapshot it could not read is kept under a name of its own, the newest
// few of them.
func TestStateUnreadable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snapshot.json")
	old := New(Config[logic]{State: &oldShape{Visits: 7848}, Logger: quiet()})
	old.statePath = path
	if err := old.snapshot(); err != nil {
		t.Fatal(err)
	}

	st := &newShape{}
	h := New(Config[logic]{State: st, Logger: quiet()})
	err := h.checkState(path)
	var se *stateError
	if !errors.As(err, &se) {
		t.Fatalf("check-state = %v, want a stateError", err)
	}
	for _, want := range []string{"*hot.newShape", "newShape.Visits", ",string"} {
		if !strings.Contains(se.msg, want) {
			t.Errorf("the sentence %q does not name %q", se.msg, want)
		}
	}
	if !strings.Contains(se.explain, "Revert") {
		t.Errorf("explain %q says nothing to do", se.explain)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("a check moved the snapshot: %v", err)
	}

	var kept []string
	for i := range keepRejected + 2 {
		err := h.restore(path, true)
		if !errors.As(err, &se) || se.kept == "" || se.kept == path {
			t.Fatalf("strict restore %d = %v, want the snapshot kept aside", i, err)
		}
		if st.Visits != 0 {
			t.Fatalf("a refused restore changed the state: %+v", st)
		}
		b, _ := os.ReadFile(se.kept)
		if !strings.Contains(string(b), `"Visits":78`) {
			t.Errorf("kept %s holds %q", se.kept, b)
		}
		kept = append(kept, se.kept)
		// The engine before writes its state again; the next refusal
		// must not overwrite the one before.
		if err := os.WriteFile(path, []byte(fmt.Sprintf(`{"Visits":%d}`, 7848+i)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(path + ".rejected-*")
	if len(files) != keepRejected {
		t.Errorf("%d rejected snapshots kept, want the newest %d: %v", len(files), keepRejected, files)
	}
	if _, err := os.Stat(kept[len(kept)-1]); err != nil {
		t.Errorf("the newest rejected snapshot is gone: %v", err)
	}

	// Reverted, the next engine reads it whole.
	back := &oldShape{}
	h2 := New(Config[logic]{State: back, Logger: quiet()})
	if err := h2.checkState(path); err != nil {
		t.Fatal(err)
	}
	if err := h2.restore(path, true); err != nil || back.Visits < 7848 {
		t.Fatalf("restore after the revert: %v, visits %d", err, back.Visits)
	}
}

// capture collects what an engine run alone logs: its events, described.
type capture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *capture) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(b)
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// TestDrainCutsLongRequests: a stop waits for the requests under way only
// for its grace, then cuts the ones still running (a slow handler, a
// hijacked connection) and reports each, and saves the state.
func TestDrainCutsLongRequests(t *testing.T) {
	var logs capture
	st := &lockedState{}
	h := New(Config[logic]{State: st, Logger: log.New(&logs, "", 0)})
	h.statePath = filepath.Join(t.TempDir(), "snapshot.json")
	h.cur.Store(&version[logic]{n: 3, value: func(s string) string { return s }})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 2)
	mux := http.NewServeMux()
	mux.Handle("/slow", h.Handler(func(w http.ResponseWriter, r *http.Request, _ logic) {
		started <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	mux.Handle("/ws", h.Handler(func(w http.ResponseWriter, r *http.Request, _ logic) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\n\r\n")
		started <- struct{}{}
		go io.Copy(io.Discard, c) // the connection lives on in the engine
	}))
	served := make(chan error, 1)
	go func() { served <- h.Serve(ln, mux) }()

	slow := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow?x=1")
		if err == nil {
			resp.Body.Close()
		}
		slow <- err
	}()
	ws, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	fmt.Fprintf(ws, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	<-started

	begin := time.Now()
	if err := h.stop(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("the stop took %s with a 300ms grace", took)
	}
	h.markStopped()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v after a stop", err)
	}
	if err := <-slow; err == nil {
		t.Error("the slow request was not cut")
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(ws); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Errorf("the hijacked connection was not closed: %v", err)
	}
	out := logs.String()
	for _, want := range []string{`request.cut {"method":"GET","path":"/slow?x=1"`, `"path":"/ws"`, `"hijacked":true`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in the engine's report:\n%s", want, out)
		}
	}
	if _, err := os.Stat(h.statePath); err != nil {
		t.Errorf("the state was not saved at the stop: %v", err)
	}
}

// TestSnapshotNeverStalls: a plain state, a request that has run longer
// than a snapshot may wait: the snapshot gives up at once and names it,
// and the requests after it are not held back.
func TestSnapshotNeverStalls(t *testing.T) {
	st := &hall{Rooms: map[string]int{}}
	h := New(Config[logic]{State: st, Logger: quiet()})
	h.statePath = filepath.Join(t.TempDir(), "snapshot.json")
	h.cur.Store(&version[logic]{n: 1, value: func(s string) string { return s }})
	release := make(chan struct{})
	long := &unit{method: "GET", path: "/events", start: time.Now().Add(-time.Minute), ver: 1}
	h.work.enter(long)
	go func() { <-release; h.work.leave(long) }()
	defer close(release)

	begin := time.Now()
	err := h.snapshot()
	if err == nil || !strings.Contains(err.Error(), "GET /events") {
		t.Fatalf("snapshot = %v, want it to name the request that holds the state", err)
	}
	if took := time.Since(begin); took > snapWait/2 {
		t.Errorf("the snapshot waited %s for a request it could tell was long", took)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		h.work.enter(&unit{})
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("a new request was held back after the snapshot gave up")
	}
}

// TestServeNilHandler: Serve(ln, nil) serves http.DefaultServeMux, as
// http.Serve does (a flat program registers with http.HandleFunc).
func TestServeNilHandler(t *testing.T) {
	h := New(Config[logic]{Logger: quiet()})
	http.HandleFunc("/hot-test-nil-handler", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "default mux") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go h.Serve(ln, nil)
	defer ln.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/hot-test-nil-handler")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "default mux" {
		t.Errorf("answer %q, want the default mux's", b)
	}
}

// TestDrainCutsOldRequestsFirst: a request that has already run longer
// than the drain grace when the stop comes (a stream) is cut at once, so
// nobody waits the grace for it; a young one still gets the grace to end.
func TestDrainCutsOldRequestsFirst(t *testing.T) {
	var logs capture
	h := New(Config[logic]{State: &lockedState{}, Logger: log.New(&logs, "", 0)})
	h.statePath = filepath.Join(t.TempDir(), "snapshot.json")
	h.cur.Store(&version[logic]{n: 1, value: func(s string) string { return s }})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("/young", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})
	go h.Serve(ln, mux)
	url := "http://" + ln.Addr().String()
	stream := make(chan time.Time, 1)
	go func() {
		if resp, err := http.Get(url + "/stream"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		stream <- time.Now()
	}()
	const grace = 2 * time.Second
	time.Sleep(grace + 200*time.Millisecond) // the stream is older than the grace now
	young := make(chan error, 1)
	var youngAt time.Time
	go func() {
		resp, err := http.Get(url + "/young")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "done" {
				err = fmt.Errorf("young answered %q", b)
			}
		}
		youngAt = time.Now()
		young <- err
	}()
	time.Sleep(100 * time.Millisecond) // the young one under way
	if err := h.stop(grace); err != nil {
		t.Fatal(err)
	}
	if err := <-young; err != nil {
		t.Errorf("the young request was cut: %v", err)
	}
	if cutAt := <-stream; !cutAt.Before(youngAt) {
		t.Errorf("the stream was cut %s after the young request ended: it waited for the drain", cutAt.Sub(youngAt))
	}
	if out := logs.String(); !strings.Contains(out, `"path":"/stream"`) || strings.Contains(out, `"path":"/young"`) {
		t.Errorf("cuts reported:\n%s\nwant /stream alone", out)
	}
}
