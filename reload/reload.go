// Package reload makes an open browser page follow the code: with
// hotrun.toml's `reload = "127.0.0.1:8081"` (or -reload), hotrun serves
// the engine's pages through a proxy on that address, and a page opened
// there reloads itself when a new version goes live, or when a new engine
// serves after a handover. A build that fails, or a version the engine
// rejects, changes nothing on the page but an overlay with the error; the
// next version that goes live reloads the page, and the overlay is gone.
//
// # How
//
// A [Proxy] is an [httputil.ReverseProxy] to the engine's first listening
// address (as the supervisor knows it: runner.Runner.Addrs, the same after
// a handover, since the listening socket is handed over). Into every HTML
// answer it adds one script tag, /__hotrun/reload.js; an answer in plain
// text or JSON that the browser opened as a page (a navigation, not a
// fetch) is shown in a minimal HTML page that carries the same tag, as
// the browser would show it anyway. The script listens to
// /__hotrun/events, a stream of server-sent events fed from hotrun's event
// stream: the Proxy sits on the stream as an [event.Publisher] that wraps
// the real one, as package probe does. Everything else goes through
// untouched: websockets, streams, assets, the app's own API.
//
// Each page carries the identity of what served it (the engine and the
// live version when its request came in), and the supervisor's engines
// snapshot ([event.Engines]) says what serves now: a page whose identity
// differs reloads, whenever it connects. So a
// swap that lands between a page's answer and its connection still
// reloads it, and the worst a race costs is one reload too many, never a
// stale page.
//
// # What it never does
//
// It never touches the engine or the user's binary: the engine library
// stays standard-library-only and the user's code has nothing to add. It
// never reloads on its own guess: only on the supervisor's word that the
// live version or the serving engine changed. It never blocks the stream:
// a page too slow to read its events is dropped, and reconnects.
package reload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// Paths the Proxy serves itself; every other path is the engine's.
const (
	prefix     = "/__hotrun/"
	scriptPath = prefix + "reload.js"
	eventsPath = prefix + "events"
)

// Config configures a [Proxy].
type Config struct {
	// Addrs returns the addresses the serving engine listens on; the first
	// is proxied to. The supervisor knows them (runner.Runner.Addrs).
	Addrs func() []string
	// Events is the stream the Proxy wraps: every event goes on to it.
	Events event.Publisher
}

// Proxy serves the engine's pages with the reload script in them, and the
// events that tell a page when to reload. Create it with [New], start it
// with [Proxy.Listen]; it is safe for use by many publishers at once. Call
// [Proxy.Close] once they have stopped.
type Proxy struct {
	cfg   Config
	proxy *httputil.ReverseProxy
	srv   *http.Server
	ln    net.Listener

	mu sync.Mutex // guards the fields below: Publish runs on many goroutines, pages on others
	// live is the version the supervisor's engines snapshot last said
	// serves; 0 while none does.
	live int
	// id is what serves, "<session>.p<pid>v<live>": the engine, by its
	// pid, and its live version, as the snapshot last said (a new engine
	// serving the same version is a new id); "" before any served. The
	// session part keeps a page of the session before (hotrun restarted)
	// from passing for one of this session.
	id      string
	session string
	problem *problem // the failure the overlay shows; nil when none
	pages   map[*page]bool
	closed  bool
}

// problem is what a page's overlay shows.
type problem struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// page is one open page's event stream.
type page struct {
	out chan message // buffered; a page that falls behind is dropped
}

// message is one server-sent event.
type message struct {
	name string
	data any
}

// New returns a Proxy that passes events on to cfg.Events.
func New(cfg Config) *Proxy {
	if cfg.Events == nil {
		cfg.Events = event.Discard
	}
	p := &Proxy{cfg: cfg, pages: make(map[*page]bool), session: strconv.FormatInt(time.Now().UnixNano(), 36)}
	p.proxy = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		ModifyResponse: p.modify,
		ErrorHandler:   p.unreachable,
		// A stream of the app's (SSE, a long poll) goes through as it is
		// written.
		FlushInterval: -1,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+scriptPath, serveScript)
	mux.HandleFunc("GET "+eventsPath, p.serveEvents)
	mux.Handle("/", p.proxy)
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return p
}

// Listen starts serving on addr ("127.0.0.1:8081"; port 0 picks one) and
// returns the address it serves on.
func (p *Proxy) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("reload: listen on %s: %w", addr, err)
	}
	p.ln = ln
	go p.srv.Serve(ln)
	return ln.Addr().String(), nil
}

// Close stops serving: the open pages' streams end (their pages keep
// trying to reconnect, and reload when a new session serves).
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	for pg := range p.pages {
		close(pg.out)
		delete(p.pages, pg)
	}
	p.mu.Unlock()
	if p.ln != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if p.srv.Shutdown(ctx) != nil {
			p.srv.Close() // a websocket through the proxy is not idle: cut it
		}
	}
}

// Publish passes e on, then tells the open pages what it means for them.
// It never waits on a page.
func (p *Proxy) Publish(e event.Event) {
	p.cfg.Events.Publish(e)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := e.(type) {
	case event.Engines:
		en, ok := e.Serving()
		if !ok {
			p.live = 0 // the pages keep what they show until one serves
			return
		}
		// One that hung or drains is about to be replaced: the pages
		// reload for the one after it.
		if en.State != event.EngineServing || en.Live == 0 {
			return
		}
		id := fmt.Sprintf("%s.p%dv%d", p.session, en.PID, en.Live)
		p.live = en.Live
		if id == p.id {
			return
		}
		p.id, p.problem = id, nil
		p.sendLocked(message{"live", map[string]string{"live": p.id}})
	case event.Change:
		// A save: the error shown may be fixed, or undone (a revert to what
		// serves builds nothing). If it is still there, its build says so.
		if p.problem != nil {
			p.problem = nil
			p.sendLocked(message{"ok", struct{}{}})
		}
	case event.BuildOK:
		if e.Target == event.TargetLogic && p.problem != nil {
			p.problem = nil
			p.sendLocked(message{"ok", struct{}{}})
		}
	case event.BuildFail:
		what := fmt.Sprintf("v%d", e.Version)
		if e.Target == event.TargetEngine {
			what = "the engine"
		}
		text := e.Error
		if len(e.Diagnostics) > 0 {
			// The plain printer's lines, without its first: the title
			// says it.
			_, text, _ = strings.Cut(event.Format(e), "\n")
		}
		p.failLocked(what+" did not build", text)
	case event.LoadFail:
		text := e.Error
		if e.Explain != "" {
			text = e.Explain + "\n\n" + e.Error
		}
		p.failLocked(fmt.Sprintf("v%d was rejected by the engine", e.Version), text)
	}
}

// failLocked shows a failure on every open page, and on every page opened
// until a version goes live.
func (p *Proxy) failLocked(title, text string) {
	serving := "nothing serves yet"
	if p.live != 0 {
		serving = fmt.Sprintf("v%d keeps serving", p.live)
	}
	p.problem = &problem{Title: title + "; " + serving, Text: text}
	p.sendLocked(message{"fail", p.problem})
}

// sendLocked queues m for every open page; one whose queue is full is
// dropped (its stream ends, and the browser reconnects).
func (p *Proxy) sendLocked(m message) {
	if p.closed {
		return
	}
	for pg := range p.pages {
		select {
		case pg.out <- m:
		default:
			close(pg.out)
			delete(p.pages, pg)
		}
	}
}

// serveEvents is a page's event stream: first what serves now (and the
// failure to show, if any), then every change of either.
func (p *Proxy) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	pg := &page{out: make(chan message, 16)}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		http.Error(w, "hotrun is stopping", http.StatusServiceUnavailable)
		return
	}
	hello := message{"hello", map[string]any{"live": p.id, "problem": p.problem}}
	p.pages[pg] = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		if p.pages[pg] {
			delete(p.pages, pg)
		}
		p.mu.Unlock()
	}()
	// A browser retries a lost stream after this long: hotrun restarted,
	// the page learns it in a second.
	fmt.Fprint(w, "retry: 1000\n\n")
	if err := writeEvent(w, hello); err != nil {
		return
	}
	rc.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case m, ok := <-pg.out:
			if !ok {
				return
			}
			if err := writeEvent(w, m); err != nil {
				return
			}
			rc.Flush()
		}
	}
}

func writeEvent(w http.ResponseWriter, m message) error {
	b, err := json.Marshal(m.data)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", m.name, b)
	return err
}

// liveID is what serves now, for a page being answered.
func (p *Proxy) liveID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.id
}

// target is the engine's address to proxy to, or "".
func (p *Proxy) target() string {
	if p.cfg.Addrs == nil {
		return ""
	}
	as := p.cfg.Addrs()
	if len(as) == 0 {
		return ""
	}
	return as[0]
}

// errNoEngine is a request that came before any engine listened.
var errNoEngine = errors.New("no engine is listening yet")

// idKey carries the identity of what served when a request came in, from
// rewrite to modify.
type idKey struct{}

func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	addr := p.target()
	if addr == "" {
		addr = "0.0.0.0:0" // refused at once: unreachable answers
	}
	pr.SetURL(&url.URL{Scheme: "http", Host: addr})
	// The app sees the host the browser asked for: its absolute links and
	// a websocket library's origin check (gorilla's compares Origin with
	// Host) work as they do without the proxy.
	pr.Out.Host = pr.In.Host
	pr.SetXForwarded()
	// The transport then asks for gzip itself and hands back the plain
	// body, which the script goes into.
	pr.Out.Header.Del("Accept-Encoding")
	// Taken before the engine answers: a swap during the request makes the
	// page reload once more, never miss one.
	id := p.liveID()
	pr.Out = pr.Out.WithContext(context.WithValue(pr.Out.Context(), idKey{}, id))
}

// unreachable answers a request the engine did not: a page opened while
// the engine starts or after it crashed shows why, and reloads itself when
// an engine serves.
func (p *Proxy) unreachable(w http.ResponseWriter, r *http.Request, err error) {
	if p.target() == "" {
		err = errNoEngine
	}
	if !isNavigation(r) {
		http.Error(w, "hotrun: the engine did not answer: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadGateway)
	fmt.Fprint(w, waitingPage(err.Error(), p.liveID()))
}
