// Command chatplain is the chat project as one ordinary executable: what a
// restart runner such as air rebuilds and restarts. Its room lives in the
// process, so every restart empties it.
package main

import (
	"flag"
	"log"
	"net/http"

	"example.com/chatplain/api"
)

const modelVersion = 1001

func main() {
	addr := flag.String("addr", "127.0.0.1:12345", "address to serve HTTP on")
	flag.Parse()
	r := new(api.Room)
	log.Printf("chatplain: serving on http://%s/hello?name=test", *addr)
	log.Fatal(http.ListenAndServe(*addr, api.Routes(modelVersion, r)))
}
