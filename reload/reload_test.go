package reload

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hotrun-dev/hotrun/event"
)

// app is an engine's stand-in: an HTML page, a gzipped one, plain text,
// JSON, an asset and a websocket echo.
func app(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, "<!DOCTYPE html><html><body><p>hi</p></BODY></html>")
	})
	mux.HandleFunc("/gz", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<p>plain</p>")
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, "<p>zipped</p>")
		zw.Close()
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello <you>") })
	mux.HandleFunc("/app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, "console.log(1)")
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil) // gorilla's own origin check
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, m, err := c.ReadMessage()
			if err != nil {
				return
			}
			c.WriteMessage(mt, m)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func startProxy(t *testing.T, target string) (*Proxy, string) {
	t.Helper()
	p := New(Config{Addrs: func() []string {
		if target == "" {
			return nil
		}
		return []string{target}
	}})
	addr, err := p.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, "http://" + addr
}

func get(t *testing.T, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gzip: what a browser gets
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var navigate = map[string]string{"Sec-Fetch-Dest": "document", "Accept": "text/html,*/*"}

// TestProxyPages: HTML answers get the script before </body>, and lose
// what would let the browser keep them; a gzipped page too; plain text
// opened as a page is shown in one with the script; a fetch of it, and
// an asset, go through untouched; a websocket goes through with the
// app's own origin check passing.
func TestProxyPages(t *testing.T) {
	srv := app(t)
	p, base := startProxy(t, strings.TrimPrefix(srv.URL, "http://"))
	p.Publish(serves(1, 1))
	id := p.liveID()

	resp, body := get(t, base+"/page", navigate)
	want := "<!DOCTYPE html><html><body><p>hi</p>" + tag(id) + "</BODY></html>"
	if body != want {
		t.Errorf("page:\n%s\nwant\n%s", body, want)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("ETag") != "" || resp.ContentLength != int64(len(want)) {
		t.Errorf("page headers: %v, length %d", resp.Header, resp.ContentLength)
	}
	if _, body := get(t, base+"/gz", map[string]string{"Accept-Encoding": "gzip"}); body != "<p>zipped</p>"+tag(id) {
		t.Errorf("gzipped page: %q", body)
	}
	if _, body := get(t, base+"/text", navigate); !strings.Contains(body, "<pre") || !strings.Contains(body, "hello &lt;you&gt;") || !strings.Contains(body, tag(id)) {
		t.Errorf("plain text opened as a page: %q", body)
	}
	if _, body := get(t, base+"/text", map[string]string{"Sec-Fetch-Dest": "empty"}); body != "hello <you>" {
		t.Errorf("plain text fetched by a script: %q", body)
	}
	if _, body := get(t, base+"/app.js", navigate); body != "console.log(1)" {
		t.Errorf("asset: %q", body)
	}
	if _, body := get(t, base+scriptPath, nil); !strings.Contains(body, "EventSource") {
		t.Errorf("script: %q", body)
	}

	u, _ := url.Parse(base)
	c, _, err := websocket.DefaultDialer.Dial("ws://"+u.Host+"/ws", http.Header{"Origin": {base}})
	if err != nil {
		t.Fatalf("websocket through the proxy: %v", err)
	}
	defer c.Close()
	c.WriteMessage(websocket.TextMessage, []byte("ping"))
	if _, m, err := c.ReadMessage(); err != nil || string(m) != "ping" {
		t.Errorf("websocket echo: %q, %v", m, err)
	}
}

// TestProxyUnreachable: a page opened while no engine answers says why
// and carries the script, which reloads it when one serves.
func TestProxyUnreachable(t *testing.T) {
	_, base := startProxy(t, "")
	resp, body := get(t, base+"/", navigate)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "no engine is listening yet") || !strings.Contains(body, scriptPath) {
		t.Errorf("%d %q", resp.StatusCode, body)
	}
}

// sse reads a page's event stream.
type sse struct {
	t  *testing.T
	sc *bufio.Scanner
}

func openEvents(t *testing.T, base string) *sse {
	t.Helper()
	resp, err := http.Get(base + eventsPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &sse{t: t, sc: bufio.NewScanner(resp.Body)}
}

// next returns the next event's name and data.
func (s *sse) next() (string, map[string]any) {
	s.t.Helper()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			s.t.Error("no event within 5s")
		}
	}()
	var name string
	for s.sc.Scan() {
		l := s.sc.Text()
		switch {
		case strings.HasPrefix(l, "event: "):
			name = strings.TrimPrefix(l, "event: ")
		case strings.HasPrefix(l, "data: "):
			var d map[string]any
			json.Unmarshal([]byte(strings.TrimPrefix(l, "data: ")), &d)
			return name, d
		}
	}
	s.t.Fatalf("the stream ended: %v", s.sc.Err())
	return "", nil
}

// serves is the supervisor's engines snapshot of engine pid serving
// version live, alone.
func serves(pid, live int) event.Engines {
	return event.Engines{Engines: []event.EngineInfo{{PID: pid, State: event.EngineServing, Serving: true, Live: live, Loaded: []int{live}}}}
}

// TestEvents: a page hears what serves when it connects; a new live
// version, and the same version on a new engine, change it; a failed
// build, a rejected version and an engine that did not build are shown
// until a build succeeds; a standby engine's start alone changes nothing.
func TestEvents(t *testing.T) {
	p, base := startProxy(t, "127.0.0.1:1")
	p.Publish(event.EngineStart{PID: 10}) // a standby engine: nothing serves yet
	p.Publish(event.Engines{Engines: []event.EngineInfo{{PID: 10, State: event.EngineStandby, Live: 1, Loaded: []int{1}}}})
	p.Publish(serves(10, 1))
	s := openEvents(t, base)
	name, d := s.next()
	first, _ := d["live"].(string)
	if name != "hello" || !strings.HasSuffix(first, ".p10v1") || d["problem"] != nil {
		t.Fatalf("hello: %s %v", name, d)
	}

	// The same engine and version (it stopped answering a while): what
	// serves did not change.
	p.Publish(event.Engines{Engines: []event.EngineInfo{{PID: 10, State: event.EngineUnresponsive, Serving: true, Live: 1}}})
	p.Publish(serves(10, 1))
	p.Publish(event.BuildFail{Version: 2, Target: event.TargetLogic, Diagnostics: []event.Diagnostic{{File: "logic/main.go", Line: 3, Col: 1, Msg: "syntax error"}}})
	name, d = s.next()
	if name != "fail" || !strings.Contains(d["title"].(string), "v2 did not build; v1 keeps serving") || !strings.Contains(d["text"].(string), "logic/main.go:3:1: syntax error") {
		t.Errorf("fail: %s %v", name, d)
	}
	// A page opened now sees the failure at once.
	if name, d := openEvents(t, base).next(); name != "hello" || d["problem"] == nil {
		t.Errorf("a new page's hello: %s %v", name, d)
	}
	p.Publish(event.BuildOK{Version: 3, Target: event.TargetLogic})
	if name, _ := s.next(); name != "ok" {
		t.Errorf("after a good build: %s", name)
	}
	// A save clears it too: undone, it builds nothing, and what serves is
	// what the page shows.
	p.Publish(event.BuildFail{Version: 3, Target: event.TargetLogic, Error: "x"})
	s.next()
	p.Publish(event.Change{Kind: event.KindLogic, Files: []string{"logic/main.go"}})
	if name, _ := s.next(); name != "ok" {
		t.Errorf("after a save: %s", name)
	}
	p.Publish(event.LoadFail{Version: 3, Error: "plugin: symbol Logic not found", Explain: "v3 exports no Logic."})
	if name, d := s.next(); name != "fail" || !strings.Contains(d["text"].(string), "symbol Logic") {
		t.Errorf("rejected: %s %v", name, d)
	}
	p.Publish(serves(10, 4))
	if name, d := s.next(); name != "live" || !strings.HasSuffix(d["live"].(string), ".p10v4") {
		t.Errorf("v4 live: %s %v", name, d)
	}
	// A handover: the new engine starts as a standby beside the one that
	// serves, which drains; the same version serves on the new one only
	// once it took over.
	p.Publish(event.EngineStart{PID: 11})
	standby := event.EngineInfo{PID: 11, State: event.EngineStandby, Live: 4, Loaded: []int{4}}
	p.Publish(event.Engines{Engines: []event.EngineInfo{{PID: 10, State: event.EngineServing, Serving: true, Live: 4}, standby}})
	p.Publish(event.Engines{Engines: []event.EngineInfo{{PID: 10, State: event.EngineDraining, Serving: true, Live: 4}, standby}})
	p.Publish(event.Engines{Engines: []event.EngineInfo{standby}, WasLive: 4})
	p.Publish(serves(11, 4))
	if name, d := s.next(); name != "live" || !strings.HasSuffix(d["live"].(string), ".p11v4") {
		t.Errorf("after a handover: %s %v", name, d)
	}
	p.Publish(event.BuildFail{Target: event.TargetEngine, Error: "builder: game/game.go:1:1: oops"})
	if name, d := s.next(); name != "fail" || !strings.Contains(d["title"].(string), "the engine did not build") {
		t.Errorf("engine build failed: %s %v", name, d)
	}
}
