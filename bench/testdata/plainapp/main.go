// Command plainapp is the example's /hello answer as one ordinary
// executable: what a restart runner such as air reloads. Its state (visits)
// lives in the process, so every restart starts it again from zero.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"sync"
)

const (
	modelVersion = 1001
	modelName    = "game1"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:12345", "address to serve HTTP on")
	flag.Parse()
	var (
		mu     sync.Mutex // guards visits
		visits int
	)
	http.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		visits++
		n := visits
		mu.Unlock()
		fmt.Fprintf(w, "hello %s, this is golang plugin test!, version=%d, name=%s, oldversion=%d, oldName=%s, visits=%d",
			r.URL.Query().Get("name"), modelVersion, modelName, 0, "", n)
	})
	log.Printf("plainapp: serving on http://%s/hello?name=test", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
