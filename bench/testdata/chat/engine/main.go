// Command engine is the chat project's host: it owns the room and serves
// HTTP, each request on the current logic version.
package main

import (
	"flag"
	"log"
	"net/http"

	"example.com/chat/room"
	"github.com/hotrun-dev/hotrun/hot"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:12345", "address to serve HTTP on")
	plugin := flag.String("plugin", "", "logic plugin (.so) to load when run without hotrun")
	flag.Parse()
	log.SetFlags(0)

	r := new(room.Room)
	h := hot.New(hot.Config[room.Logic]{State: r})
	ln, err := h.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if err := h.Start(*plugin); err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	mux := http.NewServeMux()
	mux.Handle("/", h.Handler(func(w http.ResponseWriter, req *http.Request, logic room.Logic) {
		logic.ServeHTTP(w, req, r)
	}))
	log.Printf("engine: serving on http://%s/hello?name=test", ln.Addr())
	if err := h.Serve(ln, mux); err != nil {
		log.Fatal(err)
	}
}
