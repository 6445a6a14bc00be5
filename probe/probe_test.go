package probe

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec               string
		method, path, body string
		err                string
	}{
		{"GET /hello?name=test", "GET", "/hello?name=test", "", ""},
		{"  /health ", "GET", "/health", "", ""},
		{`POST /items {"name": "x"}`, "POST", "/items", `{"name": "x"}`, ""},
		{"", "", "", "", "empty"},
		{"get /x", "", "", "", "capitals"},
		{"GET hello", "", "", "", "start with /"},
	}
	for _, tt := range tests {
		r, err := Parse(tt.spec)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q) err = %v, want %q", tt.spec, err, tt.err)
			}
			continue
		}
		if err != nil || r.Method != tt.method || r.Path != tt.path || r.Body != tt.body {
			t.Errorf("Parse(%q) = %+v, %v", tt.spec, r, err)
		}
	}
}

// recorder is the stream under the Prober: it keeps what reached it.
type recorder struct {
	mu  sync.Mutex // guards evs: the Prober publishes from its worker
	evs []event.Event
	got chan event.Probe
}

func newRecorder() *recorder { return &recorder{got: make(chan event.Probe, 100)} }

func (r *recorder) Publish(e event.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, e)
	r.mu.Unlock()
	if p, ok := e.(event.Probe); ok {
		r.got <- p
	}
}

func (r *recorder) next(t *testing.T) event.Probe {
	t.Helper()
	select {
	case p := <-r.got:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no probe event within 10s")
	}
	return event.Probe{}
}

func (r *recorder) none(t *testing.T) {
	t.Helper()
	select {
	case p := <-r.got:
		t.Fatalf("unexpected probe event %+v", p)
	case <-time.After(200 * time.Millisecond):
	}
}

// serves is the supervisor's engines snapshot with engine pid serving
// version live, in state st, and the others as given.
func serves(pid, live int, st string, others ...event.EngineInfo) event.Engines {
	es := event.Engines{Engines: []event.EngineInfo{{PID: pid, State: st, Serving: true, Live: live, Loaded: []int{live}}}}
	es.Engines = append(es.Engines, others...)
	return es
}

// TestProber runs a Prober against a real HTTP server whose answer is the
// "version" it serves, and plays the supervisor's events at it.
func TestProber(t *testing.T) {
	var (
		mu      sync.Mutex // guards serving and hits
		serving = 1
		hits    []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		v := serving
		hits = append(hits, r.Method+" "+r.URL.String()+" "+string(b))
		mu.Unlock()
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "version=%d, name=%s\n", 1000+v, r.URL.Query().Get("name"))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	rec := newRecorder()
	hello, _ := Parse("GET /hello?name=test")
	post, _ := Parse("POST /missing body")
	p := New(Config{Requests: []Request{hello, post}, Addrs: func() []string { return []string{addr} }, Events: rec})
	defer p.Close()

	// Nothing serves yet: a standby engine loads before it takes
	// traffic, and says so (load.ok, engine.start) first.
	p.Publish(event.EngineStart{PID: 7})
	p.Publish(event.LoadOK{Version: 1})
	p.Publish(event.Engines{Engines: []event.EngineInfo{{PID: 7, State: event.EngineStandby, Live: 1, Loaded: []int{1}}}})
	rec.none(t)

	p.Publish(serves(7, 1, event.EngineServing))
	got := rec.next(t)
	if got.Version != 1 || got.Status != 200 || got.Body != "version=1001, name=test" || got.Previous != "" || got.Error != "" || got.Duration <= 0 {
		t.Errorf("first probe = %+v", got)
	}
	if got := rec.next(t); got.Request != "POST /missing body" || got.Status != 404 {
		t.Errorf("second probe = %+v", got)
	}

	// The same engine and version again (another engine readied beside
	// it, or it stopped answering a while): nothing to probe.
	p.Publish(serves(7, 1, event.EngineServing, event.EngineInfo{PID: 8, State: event.EngineStandby, Live: 2, Loaded: []int{2}}))
	p.Publish(serves(7, 1, event.EngineUnresponsive))
	p.Publish(serves(7, 1, event.EngineServing))
	rec.none(t)

	mu.Lock()
	serving = 2
	mu.Unlock()
	p.Publish(serves(7, 2, event.EngineServing))
	if got := rec.next(t); got.Version != 2 || got.Body != "version=1002, name=test" || got.Previous != "version=1001, name=test" {
		t.Errorf("probe after the swap = %+v", got)
	}
	rec.next(t)

	// An engine that drains is handing over: the next one is probed, and
	// a new engine serving the same version is probed again.
	p.Publish(serves(7, 2, event.EngineDraining, event.EngineInfo{PID: 8, State: event.EngineStandby, Live: 2, Loaded: []int{2}}))
	p.Publish(event.Engines{Engines: []event.EngineInfo{{PID: 8, State: event.EngineStandby, Live: 2, Loaded: []int{2}}}})
	rec.none(t)
	p.Publish(serves(8, 2, event.EngineServing))
	if got := rec.next(t); got.Version != 2 || got.Previous != "" {
		t.Errorf("probe after an engine start = %+v", got)
	}
	rec.next(t)

	mu.Lock()
	if len(hits) != 6 || hits[1] != "POST /missing body" {
		t.Errorf("the server saw %q, want 6 requests, each probe once per change", hits)
	}
	mu.Unlock()

	// Every event went on to the stream, in order, before its probes.
	rec.mu.Lock()
	if _, ok := rec.evs[1].(event.LoadOK); !ok {
		t.Errorf("second event on the stream = %#v, want the load.ok passed on", rec.evs[1])
	}
	if e, ok := rec.evs[3].(event.Engines); !ok || !e.Engines[0].Serving {
		t.Errorf("fourth event = %#v, want the engines passed on before the probes", rec.evs[3])
	}
	rec.mu.Unlock()
}

// TestProberFailures: a probe that can't connect, times out or has no
// address is an event, sent once, never retried.
func TestProberFailures(t *testing.T) {
	block := make(chan struct{})
	var (
		mu   sync.Mutex // guards hits
		hits int
	)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(block)

	req, _ := Parse("/slow")
	rec := newRecorder()
	p := New(Config{Requests: []Request{req}, Timeout: 100 * time.Millisecond, Events: rec,
		Addrs: func() []string { return []string{strings.TrimPrefix(slow.URL, "http://")} }})
	p.Publish(serves(7, 3, event.EngineServing))
	if got := rec.next(t); got.Error != "no answer within the timeout" || got.Status != 0 {
		t.Errorf("slow probe = %+v", got)
	}
	rec.none(t)
	mu.Lock()
	if hits != 1 {
		t.Errorf("the slow server saw %d requests, want 1: never retried", hits)
	}
	mu.Unlock()
	p.Close()

	rec = newRecorder()
	p = New(Config{Requests: []Request{req}, Events: rec, Addrs: func() []string { return nil }})
	p.Publish(serves(7, 1, event.EngineServing))
	if got := rec.next(t); !strings.Contains(got.Error, "no listening address") {
		t.Errorf("probe with no address = %+v", got)
	}
	p.Close()

	// After Close, nothing more is sent, and events still pass.
	p.Publish(serves(7, 2, event.EngineServing))
	rec.none(t)
}

func TestBodyStart(t *testing.T) {
	if got := bodyStart([]byte("héllo world"), 2); got != "h…" {
		t.Errorf("bodyStart cut inside a character: %q", got)
	}
	if got := bodyStart([]byte("ok\n"), 10); got != "ok" {
		t.Errorf("bodyStart = %q", got)
	}
}
