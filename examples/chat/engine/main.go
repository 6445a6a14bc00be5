// Command engine is the chat demo's host: it keeps the history (package
// chat) and every websocket, and runs each message on the logic version
// live when it arrives. Run it with hotrun (see README.md), or alone:
//
//	go build -buildmode=plugin -o logic.so ./logic
//	go run ./engine -plugin logic.so
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hotrun-dev/hotrun/examples/chat/chat"
	"github.com/hotrun-dev/hotrun/hot"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve HTTP on")
	plugin := flag.String("plugin", "", "logic plugin (.so) to load when run without hotrun")
	flag.Parse()
	log.SetFlags(0)

	history := new(chat.History)
	pages := &pages{all: map[*page]bool{}}
	h := hot.New(hot.Config[chat.Logic]{
		// hotrun carries the history across engines and sessions.
		State: history,
		// A new version repaints every open page at once, over the
		// websocket each already has: the connections are the engine's.
		OnSwap: func(_, next chat.Logic) {
			pages.broadcast(frame("repaint", render(next, history.All()...)))
		},
	})
	// Listen first: under hotrun, a new engine then holds the socket while
	// it gets ready, and connections wait in the backlog until it serves.
	ln, err := h.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if err := h.Start(*plugin); err != nil {
		log.Fatal(err)
	}
	defer h.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /{$}", h.Handler(func(w http.ResponseWriter, r *http.Request, l chat.Logic) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(l.Page())
	}))
	// A message as the live version renders it: hotrun's probe shows it
	// after every swap (hotrun.toml).
	mux.Handle("GET /render", h.Handler(func(w http.ResponseWriter, r *http.Request, l chat.Logic) {
		io.WriteString(w, l.Render(chat.Message{Author: "ada", Text: r.URL.Query().Get("text")}))
	}))
	// The websocket is not a unit of work: it lives in the engine, and
	// each message it brings is one (h.Run), on the version live then.
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		serveWS(h, history, pages, w, r)
	})
	log.Printf("chat: open http://%s/ in two tabs", ln.Addr())
	if err := h.Serve(ln, mux); err != nil {
		log.Fatal(err)
	}
}

// item is one rendered message, as the page shows it.
type item struct {
	ID   int    `json:"id"`
	HTML string `json:"html"`
}

// frame is what the page reads: "history" (the whole list, when it
// connects), "repaint" (the whole list, rendered by a new version) or
// "msg" (one new message).
func frame(kind string, items []item) []byte {
	b, _ := json.Marshal(struct {
		Type  string `json:"type"`
		Items []item `json:"items"`
	}{kind, items})
	return b
}

func render(l chat.Logic, msgs ...chat.Message) []item {
	items := make([]item, len(msgs))
	for i, m := range msgs {
		items[i] = item{m.ID, l.Render(m)}
	}
	return items
}

// pages are the open websockets.
type pages struct {
	mu  sync.Mutex // guards all, and orders a page's history before the messages after it
	all map[*page]bool
}

// page is one open websocket.
type page struct {
	conn *websocket.Conn
	send chan []byte // to its writer; closed when the page leaves
}

// join adds p, with first (the history) as the first frame it gets:
// no message can come between the two.
func (ps *pages) join(p *page, first func() ([]byte, error)) error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	b, err := first()
	if err != nil {
		return err
	}
	p.send <- b
	ps.all[p] = true
	return nil
}

func (ps *pages) leave(p *page) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.all[p] {
		delete(ps.all, p)
		close(p.send)
	}
}

// broadcast queues b for every page; one too slow to keep up is dropped
// (it reconnects and gets the history).
func (ps *pages) broadcast(b []byte) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for p := range ps.all {
		select {
		case p.send <- b:
		default:
			delete(ps.all, p)
			close(p.send)
		}
	}
}

var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}

// serveWS runs one page's websocket: the history first, then every
// message said anywhere; each message it brings is a unit of work.
func serveWS(h *hot.Host[chat.Logic], history *chat.History, ps *pages, w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	defer conn.Close()
	name := strings.TrimSpace(r.URL.Query().Get("name"))
	if name == "" || len(name) > 20 {
		name = "someone"
	}
	p := &page{conn: conn, send: make(chan []byte, 64)}
	err = ps.join(p, func() (b []byte, err error) {
		err = h.Run("join", func(l chat.Logic) error {
			b = frame("history", render(l, history.All()...))
			return nil
		})
		return b, err
	})
	if err != nil {
		return
	}
	defer ps.leave(p)
	go func() {
		for b := range p.send {
			conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if conn.WriteMessage(websocket.TextMessage, b) != nil {
				conn.Close() // the reader ends, and the page leaves
				return
			}
		}
	}()
	conn.SetReadLimit(4096)
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		text := strings.TrimSpace(string(msg))
		if text == "" {
			continue
		}
		// Rendered before it is kept: a message that makes Render panic
		// is lost alone (hotrun shows the panic), never kept to break
		// every page that loads the history; the connection lives on.
		h.Run("message", func(l chat.Logic) error {
			m := chat.Message{Author: name, Text: text, At: time.Now()}
			html := l.Render(m)
			m = history.Add(m)
			ps.broadcast(frame("msg", []item{{m.ID, html}}))
			return nil
		})
	}
}
