// Command engine is the example's host: it owns the state (package game)
// and serves HTTP, running each request on the current logic version. Run it
// with hotrun (`go run ./cmd/hotrun` in the hotrun repository), or alone:
//
//	go build -buildmode=plugin -o logic.so ./logic
//	go run ./engine -plugin logic.so
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"

	"github.com/hotrun-dev/hotrun/example/game"
	"github.com/hotrun-dev/hotrun/hot"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:12345", "address to serve HTTP on")
	plugin := flag.String("plugin", "", "logic plugin (.so) to load when run without hotrun")
	flag.Parse()
	log.SetFlags(0)

	state := new(game.State)
	h := hot.New(hot.Config[game.Logic]{
		// hotrun carries the state across engine restarts (a change to
		// package game, or a crash) by saving and restoring it as JSON.
		State: state,
		// Which model served before is state the engine keeps: the plugin
		// that knew it is gone from the request path, and after a restart
		// so is the process.
		OnSwap: func(prev, next game.Logic) {
			state.Swapped(next.Version(), next.Name())
		},
	})
	// Listen first: under hotrun, a new engine then holds the socket while
	// it gets ready, and connections wait in the backlog until it serves.
	ln, err := h.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	// Start returns when this engine is to serve (under hotrun, once it has
	// loaded and checked its version and the engine before it let go).
	if err := h.Start(*plugin); err != nil {
		log.Fatal(err)
	}
	defer h.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /hello", h.Handler(func(w http.ResponseWriter, r *http.Request, logic game.Logic) {
		fmt.Fprint(w, logic.Hello(r.URL.Query().Get("name"), state.Visit()))
	}))
	log.Printf("engine: serving on http://%s/hello?name=test", ln.Addr())
	// Serve returns nil when hotrun stops the engine to restart it, after
	// the requests under way have finished and the state is saved.
	if err := h.Serve(ln, mux); err != nil {
		log.Fatal(err)
	}
}
