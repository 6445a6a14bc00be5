package hot_test

import (
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/hotrun-dev/hotrun/hot"
)

// Logic is what every version of the logic exports, as `var Logic Logic`.
// It lives in a package that both the engine and the logic import.
type Logic interface {
	Hello(name string, visits int) string
}

// Hall is the engine's state: the logic reads and writes it, hotrun carries
// it across engine restarts.
type Hall struct {
	mu     sync.Mutex
	Visits int
}

func (s *Hall) Visit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Visits++
	return s.Visits
}

// An engine: it owns the state, listens, and serves each request on the
// logic version current when it arrives. Under hotrun, the logic comes from
// hotrun; run alone, from the plugin named on the command line.
func Example() {
	state := new(Hall)
	h := hot.New(hot.Config[Logic]{State: state})
	ln, err := h.Listen("tcp", "127.0.0.1:8080") // before Start: see Host.Listen
	if err != nil {
		log.Fatal(err)
	}
	if err := h.Start("logic.so"); err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /hello", h.Handler(func(w http.ResponseWriter, r *http.Request, l Logic) {
		fmt.Fprint(w, l.Hello(r.URL.Query().Get("name"), state.Visit()))
	}))
	if err := h.Serve(ln, mux); err != nil {
		log.Fatal(err)
	}
}

func ExampleNew() {
	state := new(Hall)
	h := hot.New(hot.Config[Logic]{
		State: state, // saved and restored across engine restarts
		// Check runs on a new version before it takes traffic.
		Check: func(l Logic) error {
			if l.Hello("check", 0) == "" {
				return fmt.Errorf("Hello answers nothing")
			}
			return nil
		},
	})
	_ = h
}

func ExampleConfig() {
	_ = hot.Config[Logic]{
		Symbol:       "Rules", // the logic exports `var Rules Logic`
		CheckTimeout: 2 * time.Second,
		OnSwap: func(prev, next Logic) {
			log.Printf("now serving %T", next)
		},
	}
}

func ExampleHost() {
	var h *hot.Host[Logic] = hot.New(hot.Config[Logic]{})
	_ = h
}

func ExampleHost_Start() {
	h := hot.New(hot.Config[Logic]{})
	// Under hotrun, Start returns when this engine is to serve; alone, it
	// loads logic.so as version 1.
	if err := h.Start("logic.so"); err != nil {
		log.Fatal(err)
	}
}

func ExampleHost_Listen() {
	h := hot.New(hot.Config[Logic]{})
	// Under hotrun, the socket is the one every engine of the session
	// inherits: clients wait in its backlog across restarts.
	ln, err := h.Listen("tcp", ":8080")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
}

func ExampleHost_Serve() {
	h := hot.New(hot.Config[Logic]{})
	ln, err := h.Listen("tcp", ":8080")
	if err != nil {
		log.Fatal(err)
	}
	// Serve returns nil when hotrun hands over to a new engine, after the
	// requests under way have finished and the state is saved.
	if err := h.Serve(ln, http.NotFoundHandler()); err != nil {
		log.Fatal(err)
	}
}

func ExampleHost_Handler() {
	h := hot.New(hot.Config[Logic]{})
	http.Handle("GET /hello", h.Handler(func(w http.ResponseWriter, r *http.Request, l Logic) {
		fmt.Fprint(w, l.Hello(r.URL.Query().Get("name"), 0))
	}))
}

// A game loop: each tick is a unit of work on one version, shown in
// hotrun's request log; a panic in the logic is contained.
func ExampleHost_Run() {
	state := new(Hall)
	h := hot.New(hot.Config[Logic]{State: state})
	tick := time.NewTicker(time.Second / 20)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			err := h.Run("tick", func(l Logic) error {
				l.Hello("world", state.Visit())
				return nil
			})
			if err != nil {
				log.Print(err) // the logic panicked, or no version is loaded yet
			}
		case <-h.Stopping():
			return
		}
	}
}

func ExampleHost_Current() {
	h := hot.New(hot.Config[Logic]{})
	if l, n, ok := h.Current(); ok {
		log.Printf("v%d says %s", n, l.Hello("x", 0))
	}
}

func ExampleHost_Stopping() {
	h := hot.New(hot.Config[Logic]{})
	<-h.Stopping() // hotrun asked this engine to hand over: its state is being saved
}

func ExampleHost_Close() {
	h := hot.New(hot.Config[Logic]{})
	defer h.Close()
}
