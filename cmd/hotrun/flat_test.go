package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/scaffold"
)

// wsClient is a chat client of the hub: it reads every message the hub
// sends it until the test closes it, and counts a connection that ends
// before that.
type wsClient struct {
	conn *websocket.Conn
	mu   sync.Mutex // guards got
	got  []string   // the messages received, one per line of a frame
	// closing is set before the test closes the connection: a read that
	// fails after it is no disconnect.
	closing      atomic.Bool
	disconnected chan error // the error that ended the connection early
}

func dialHub(t *testing.T, addr string) *wsClient {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial the hub: %v", err)
	}
	c := &wsClient{conn: conn, disconnected: make(chan error, 1)}
	go func() {
		for {
			_, frame, err := conn.ReadMessage()
			if err != nil {
				if !c.closing.Load() {
					c.disconnected <- err
				}
				return
			}
			// The hub's writer joins the messages queued for a client
			// into one frame, a line each.
			c.mu.Lock()
			c.got = append(c.got, strings.Split(string(frame), "\n")...)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		c.closing.Store(true)
		conn.Close()
	})
	return c
}

func (c *wsClient) send(t *testing.T, msg string) {
	t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("send %q: %v", msg, err)
	}
}

// waitGot waits until the client has received want.
func (c *wsClient) waitGot(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		has := false
		for _, m := range c.got {
			has = has || m == want
		}
		c.mu.Unlock()
		if has {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Fatalf("no %q within 20s; received %q", want, c.got)
}

func (c *wsClient) count(prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, m := range c.got {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// TestFlatHubHotSwaps is issue 23's end to end. gorilla/websocket's chat
// example (scaffold/testdata/flat/wshub: one package main) after the
// recipe hotrun init prints for it was followed by hand, as printed
// (scaffold/testdata/flat/wshub-after; scaffold's TestRecipeFollowedByHand
// holds the two together). hotrun init adopts it, the root package as the
// engine; hotrun runs it; three websocket clients chat through it, one of
// them steadily, while an edit of the message formatting goes live in the
// same engine: every client sees it, none is disconnected, and no message
// is lost.
func TestFlatHubHotSwaps(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds the converted hub and runs it under websocket clients; skipped with -short")
	}
	dir := filepath.Join(t.TempDir(), "chat")
	if err := os.CopyFS(dir, os.DirFS("../../scaffold/testdata/flat/wshub-after")); err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// As a user of a checkout runs it: hotrun init -local in the module,
	// with this checkout as the library's, then hotrun with the settings
	// init wrote.
	t.Setenv(scaffold.EnvSrc, repo)
	t.Chdir(dir)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"init", "-local"}, nil, &out, io.Discard); err != nil {
		t.Fatalf("hotrun init: %v\n%s", err, &out)
	}
	for _, want := range []string{"found  engine  .", "found  logic   ./logic", "wrote  hotrun.toml"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("hotrun init does not say %q:\n%s", want, &out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "engine")); err == nil {
		t.Fatalf("hotrun init wrote a second engine beside the root package:\n%s", &out)
	}

	s := runSession(t, dir, freeAddr(t), "-config", filepath.Join(dir, "hotrun.toml"))
	start := waitFor[event.EngineStart](s, buildWait, nil)
	waitFor(s, loadWait, func(e event.LoadOK) bool { return e.Version == 1 })
	if code, body := s.get("/"); code != 200 || !strings.Contains(body, "<title>Chat Example</title>") {
		t.Fatalf("GET / (the logic's ServeHome): %d %.80q", code, body)
	}

	clients := []*wsClient{dialHub(t, s.addr), dialHub(t, s.addr), dialHub(t, s.addr)}
	// The hub registers a client after the upgrade has answered it: say
	// hello until every client hears it.
	for i := 0; ; i++ {
		clients[0].send(t, fmt.Sprintf("hello\nworld %d", i))
		time.Sleep(100 * time.Millisecond)
		heard := 0
		for _, c := range clients {
			if c.count("hello world ") > 0 {
				heard++
			}
		}
		if heard == len(clients) {
			break
		}
		if i == 200 {
			t.Fatal("not every client heard hello within 20s")
		}
	}

	// One client chats steadily through the swap.
	var sent atomic.Int64
	stop := make(chan struct{})
	steady := make(chan struct{})
	go func() {
		defer close(steady)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if err := clients[1].conn.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "  steady %d  ", i)); err != nil {
				return // the read side reports the disconnect
			}
			sent.Add(1)
		}
	}()

	s.edit("logic/main.go", replace("message = bytes.TrimSpace(bytes.Replace(message, newline, space, -1))",
		`message = append([]byte("v2: "), bytes.TrimSpace(bytes.Replace(message, newline, space, -1))...)`))
	waitFor(s, buildWait, func(e event.Change) bool { return e.Kind == event.KindLogic })
	waitFor(s, loadWait, func(e event.LoadOK) bool { return e.Version == 2 })
	clients[2].send(t, "hello\nagain")
	for _, c := range clients {
		c.waitGot(t, "v2: hello again")
	}
	close(stop)
	<-steady
	// The last steady message, formatted by v2, reaches every client.
	last := fmt.Sprintf("v2: steady %d", sent.Load()-1)
	for _, c := range clients {
		c.waitGot(t, last)
	}

	for i, c := range clients {
		select {
		case err := <-c.disconnected:
			t.Errorf("client %d was disconnected: %v", i, err)
		default:
		}
		// Every steady message, before the swap or after, reached every
		// client once: none was dropped while the version changed.
		if got := c.count("steady ") + c.count("v2: steady "); got != int(sent.Load()) {
			t.Errorf("client %d received %d of the %d steady messages", i, got, sent.Load())
		}
	}
	t.Logf("3 clients, %d steady messages through the swap, 0 disconnects", sent.Load())

	// The messages ran as units on the engine's library, and the swap was
	// one: the engine that started is the one that serves.
	waitFor(s, loadWait, func(e event.Unit) bool { return e.Unit == "message" && e.Version == 2 })
	if err := syscall.Kill(start.PID, 0); err != nil {
		t.Errorf("the engine that started (pid %d) is gone: %v", start.PID, err)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("hotrun returned %v", err)
	}
	if n := strings.Count(s.log.String(), "engine   started"); n != 1 {
		t.Errorf("%d engines started, want 1 (pid %d): the edit was a hot swap\n%s", n, start.PID, s.log.String())
	}
}
