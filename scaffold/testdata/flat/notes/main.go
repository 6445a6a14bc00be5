// Command notes serves a small notes API from memory.
package main

import (
	"flag"
	"log"
	"net/http"
	"time"
)

func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		log.Printf("%s %s %s", r.Method, r.URL.Path, time.Since(start))
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()

	s := &server{store: NewStore()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /notes", s.handleList)
	mux.HandleFunc("POST /notes", s.handleAdd)
	mux.HandleFunc("GET /notes/{id}", s.handleGet)
	mux.HandleFunc("DELETE /notes/{id}", s.handleDelete)
	mux.HandleFunc("GET /healthz", healthz)

	srv := &http.Server{
		Addr:              *addr,
		Handler:           logRequests(mux),
		ReadHeaderTimeout: 5 * time.Second,
	}
	log.Printf("notes: listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
