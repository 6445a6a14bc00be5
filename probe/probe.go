// Package probe shows what the engine answers: it sends the project's probe
// requests (hotrun.toml `probe = ["GET /hello?name=test"]`, or -probe) to the
// engine whenever the version it serves changes or a new engine starts
// serving, and publishes each answer as an [event.Probe].
//
// A [Prober] sits on the event stream as a [event.Publisher] that wraps the
// real one: everything published through it goes on unchanged, and it reads
// the supervisor's [event.Engines] snapshot to learn which engine serves
// which version: a round of probes goes out when either changes. It reads
// nothing else: not load.ok nor engine.start, which a standby engine sends
// before it takes any traffic (a probe then would reach the old engine).
//
// # What it never does
//
// It never retries: each probe is sent once per change, with a timeout, and
// a failure is an event like an answer. It never tells the supervisor
// anything, so a failing probe never counts against the engine. It never
// prints: its results go on the stream, which every view reads.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hotrun-dev/hotrun/event"
)

// Defaults of [Config].
const (
	DefaultTimeout = 2 * time.Second
	DefaultMaxBody = 200 // bytes of the body kept in an event
)

// Request is one probe request, as parsed from its spec.
type Request struct {
	Spec   string // as the user wrote it: "GET /hello?name=test"
	Method string
	Path   string // starts with "/"; may hold a query
	Body   string // "" for none
}

// Parse reads a probe spec: an optional method (GET when left out), a path,
// and for any method an optional body after the path:
//
//	GET /hello?name=test
//	/health
//	POST /items {"name":"x"}
func Parse(spec string) (Request, error) {
	s := strings.TrimSpace(spec)
	r := Request{Spec: s, Method: http.MethodGet}
	if s == "" {
		return r, errors.New("probe: empty request: want \"GET /path\"")
	}
	if !strings.HasPrefix(s, "/") {
		m, rest, _ := strings.Cut(s, " ")
		if strings.IndexFunc(m, func(c rune) bool { return c < 'A' || c > 'Z' }) >= 0 {
			return r, fmt.Errorf("probe: %q: want a method in capitals and a path, like \"GET /hello\"", spec)
		}
		r.Method, s = m, strings.TrimSpace(rest)
	}
	path, body, _ := strings.Cut(s, " ")
	if !strings.HasPrefix(path, "/") {
		return r, fmt.Errorf("probe: %q: the path must start with /", spec)
	}
	r.Path, r.Body = path, strings.TrimSpace(body)
	return r, nil
}

// Config configures a [Prober].
type Config struct {
	Requests []Request
	// Addrs returns the addresses the serving engine listens on; the first
	// is probed. The supervisor knows them (runner.Runner.Addrs).
	Addrs func() []string
	// Events is the stream the Prober wraps: every event goes on to it, and
	// so do the probe results.
	Events  event.Publisher
	Timeout time.Duration // per request; 0 means DefaultTimeout
	MaxBody int           // bytes of the body kept; 0 means DefaultMaxBody
}

// Prober publishes what the engine answers to the probe requests after each
// change of the live version. Create it with [New]; it is safe for use by
// many publishers at once. Call [Prober.Close] once they have stopped.
type Prober struct {
	cfg    Config
	client *http.Client
	ctx    context.Context // canceled by Close: probes under way end
	cancel context.CancelFunc
	wg     sync.WaitGroup // the one worker goroutine, while it runs

	mu sync.Mutex // guards the fields below: Publish runs on many goroutines
	// probed is the serving engine and the version it served at the last
	// round: a new engine serving the same version is probed again, as it
	// is a new process answering.
	probed  serving
	running bool                  // the worker runs
	next    int                   // version waiting for a round once the worker is free; 0: none
	last    map[string]lastAnswer // by spec: the body of the last answer
	closed  bool
}

// lastAnswer is a probe's last body, and the version that gave it.
type lastAnswer struct {
	version int
	body    string
}

// New returns a Prober. With no requests it only passes events on.
func New(cfg Config) *Prober {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Events == nil {
		cfg.Events = event.Discard
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Prober{
		cfg: cfg,
		client: &http.Client{
			Timeout: cfg.Timeout,
			// No idle connection left open to the engine: it would
			// keep a draining engine waiting for it at the next swap.
			Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
			// A redirect is an answer worth showing, not following.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		ctx:    ctx,
		cancel: cancel,
		last:   make(map[string]lastAnswer),
	}
}

// Publish passes e on, then starts a round of probes if e says a new version
// (or a new engine) now serves. It never waits for a probe.
func (p *Prober) Publish(e event.Event) {
	p.cfg.Events.Publish(e)
	if len(p.cfg.Requests) == 0 {
		return
	}
	es, ok := e.(event.Engines)
	if !ok {
		return
	}
	// Only an engine that serves and answers is probed: one that hung,
	// or drains, is about to be replaced, and the next one is probed.
	en, ok := es.Serving()
	if !ok || en.State != event.EngineServing || en.Live == 0 {
		return
	}
	now := serving{pid: en.PID, version: en.Live}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now == p.probed {
		return
	}
	p.probed = now
	p.startLocked(en.Live)
}

// serving is an engine, by its pid, and the version it serves.
type serving struct{ pid, version int }

// startLocked runs a round for version v on the worker, starting it if it
// is idle. A busy worker takes the newest waiting version when it is done:
// rounds never pile up, and an older version waiting is no longer worth a
// probe.
func (p *Prober) startLocked(v int) {
	if p.closed {
		return
	}
	if p.running {
		p.next = v
		return
	}
	p.running = true
	p.wg.Add(1)
	go p.work(v)
}

func (p *Prober) work(v int) {
	defer p.wg.Done()
	for {
		p.round(v)
		p.mu.Lock()
		v, p.next = p.next, 0
		if v == 0 || p.closed {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
}

// round sends every probe once, in order, and publishes each answer.
func (p *Prober) round(v int) {
	var addr string
	if p.cfg.Addrs != nil {
		if as := p.cfg.Addrs(); len(as) > 0 {
			addr = as[0]
		}
	}
	for _, r := range p.cfg.Requests {
		if p.ctx.Err() != nil {
			return
		}
		ev := event.Probe{Version: v, Request: r.Spec}
		if addr == "" {
			ev.Error = "the engine reported no listening address"
		} else {
			p.send(&ev, addr, r)
		}
		if ev.Error == "" {
			p.mu.Lock()
			if l, ok := p.last[r.Spec]; ok && l.version != v && l.body != ev.Body {
				ev.Previous = l.body
			}
			p.last[r.Spec] = lastAnswer{v, ev.Body}
			p.mu.Unlock()
		}
		if p.ctx.Err() != nil {
			return // closing: the stream may be gone
		}
		p.cfg.Events.Publish(ev)
	}
}

// send makes the request and fills in ev.
func (p *Prober) send(ev *event.Probe, addr string, r Request) {
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	start := time.Now()
	req, err := http.NewRequestWithContext(p.ctx, r.Method, "http://"+addr+r.Path, body)
	if err != nil {
		ev.Error = err.Error()
		return
	}
	resp, err := p.client.Do(req)
	if err != nil {
		ev.Duration = event.Duration(time.Since(start))
		ev.Error = plainError(err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(p.cfg.MaxBody)+1))
	ev.Duration = event.Duration(time.Since(start))
	ev.Status = resp.StatusCode
	ev.Body = bodyStart(b, p.cfg.MaxBody)
	if err != nil {
		ev.Error = "reading the body: " + plainError(err)
	}
}

// bodyStart returns the first max bytes of b as text, cut at a character
// boundary, with "…" when there was more.
func bodyStart(b []byte, max int) string {
	more := len(b) > max
	if more {
		b = b[:max]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	s := strings.TrimRight(string(b), " \r\n\t")
	if more {
		s += "…"
	}
	return s
}

// plainError drops the net/http wrapping that repeats the URL.
func plainError(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		if ne := net.Error(nil); errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			return "no answer within the timeout"
		}
		return ue.Unwrap().Error()
	}
	return err.Error()
}

// Close stops the Prober: no new round starts, and probes under way are
// canceled; it returns when the worker is done. Call it after the last
// Publish and before the stream it wraps is closed.
func (p *Prober) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
}
