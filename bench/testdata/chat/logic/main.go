// Command logic is the chat project's logic plugin: its handlers.
package main

import (
	"net/http"

	"example.com/chat/logic/api"
	"example.com/chat/room"
)

const modelVersion = 1001

// Logic is the symbol the engine looks up.
var Logic room.Logic = handlers{}

type handlers struct{}

func (handlers) Version() int { return modelVersion }

func (handlers) ServeHTTP(w http.ResponseWriter, req *http.Request, r *room.Room) {
	api.Routes(modelVersion, r).ServeHTTP(w, req)
}

func main() {}
