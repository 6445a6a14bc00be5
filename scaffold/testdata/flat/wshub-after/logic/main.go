// Command logic is the logic plugin of example.com/chat.
//
// hotrun builds each save of this directory into a new version and swaps
// it into the running engine.
package main

import (
	"bytes"
	"log"
	"net/http"

	"example.com/chat/chat"
)

// Logic is the symbol the engine looks up.
var Logic chat.Logic = logic{}

type logic struct{}

// ServeHome serves / (was serveHome, main.go:15).
func (logic) ServeHome(w http.ResponseWriter, r *http.Request) {
	log.Println(r.URL)
	if r.URL.Path != "/" {
		http.Error(w, "Not found", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "Method not allowed", http.StatusMethodNotAllowed)
		return
	}
	http.ServeFile(w, r, "home.html")
}

// Format returns message as (*Client).readPump passes it on (was client.go:72).
func (logic) Format(message []byte) []byte {
	message = bytes.TrimSpace(bytes.Replace(message, newline, space, -1))
	return message
}

// newline is a copy of the engine's (client.go:31).
var newline = []byte{'\n'}

// space is a copy of the engine's (client.go:32).
var space = []byte{' '}

func main() {}
