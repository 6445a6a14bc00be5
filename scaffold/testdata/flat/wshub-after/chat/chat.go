// Package chat is shared by the engine and every version of the logic:
// it declares the interface the logic implements.
//
// A change here is no hot swap: hotrun builds a new engine for it and
// hands the state over.
package chat

import "net/http"

// Logic is the code hotrun swaps into the running engine.
type Logic interface {
	// ServeHome serves / (was serveHome, main.go:15).
	ServeHome(w http.ResponseWriter, r *http.Request)
	// Format returns message as (*Client).readPump passes it on (was client.go:72).
	Format(message []byte) []byte
}
