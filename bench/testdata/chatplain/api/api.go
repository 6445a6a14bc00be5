// Package api is the chat project's handlers: a greeting that names the
// logic version, and a JSON message board.
package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Routes returns the handlers of logic version v over room r.
func Routes(v int, r *Room) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, req *http.Request) {
		name := strings.TrimSpace(req.URL.Query().Get("name"))
		if name == "" {
			name = "stranger"
		}
		fmt.Fprintf(w, "hello %s, this is the chat room, version=%d, messages=%d, visits=%d",
			name, v, len(r.Messages()), r.Visit())
	})
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(r.Messages())
	})
	mux.HandleFunc("POST /messages", func(w http.ResponseWriter, req *http.Request) {
		var m Message
		if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<16)).Decode(&m); err != nil {
			http.Error(w, "bad message: "+err.Error(), http.StatusBadRequest)
			return
		}
		if m.From == "" || m.Text == "" {
			http.Error(w, "a message needs from and text", http.StatusBadRequest)
			return
		}
		m.At = time.Now()
		r.Post(m)
		w.WriteHeader(http.StatusCreated)
	})
	return mux
}
