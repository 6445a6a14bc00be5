// Command engine serves the templ app's page through the logic.
package main

import (
	"flag"
	"log"
	"net/http"
	"sync/atomic"

	"example.com/templapp/shared"
	"github.com/hotrun-dev/hotrun/hot"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve HTTP on")
	plugin := flag.String("plugin", "", "logic plugin (.so) to load when run without hotrun")
	flag.Parse()
	var visits atomic.Int64
	h := hot.New(hot.Config[shared.Logic]{})
	ln, err := h.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if err := h.Start(*plugin); err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /", h.Handler(func(w http.ResponseWriter, r *http.Request, l shared.Logic) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := l.Page(r.Context(), w, r.URL.Query().Get("name"), int(visits.Add(1))); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	if err := h.Serve(ln, mux); err != nil {
		log.Fatal(err)
	}
}
