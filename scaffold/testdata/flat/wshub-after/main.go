// Copyright 2013 The Gorilla WebSocket Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package main

import (
	"flag"
	"log"
	"net/http"

	"example.com/chat/chat"
	"github.com/hotrun-dev/hotrun/hot"
)

// h is the engine library: it loads the logic, and runs each request
// and message on one version. Package-level, like the flags: every
// function below reaches it.
var h = hot.New(hot.Config[chat.Logic]{})
var pluginPath = flag.String("plugin", "", "logic plugin (.so) to load when run without hotrun")
var addr = flag.String("addr", ":8080", "http service address")

func main() {
	flag.Parse()
	hub := newHub()
	go hub.run()
	http.Handle("/", h.Handler(func(w http.ResponseWriter, r *http.Request, l chat.Logic) { l.ServeHome(w, r) }))
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		serveWs(hub, w, r)
	})
	ln, err := h.Listen("tcp", *addr) // before Start: a new engine holds the socket while it gets ready
	if err != nil {
		log.Fatal(err)
	}
	if err := h.Start(*pluginPath); err != nil { // under hotrun: returns when this engine is to serve
		log.Fatal(err)
	}
	defer h.Close()
	err = h.Serve(ln, nil)
	if err != nil {
		log.Fatal("ListenAndServe: ", err)
	}
}
