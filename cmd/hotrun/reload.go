package main

import (
	"fmt"
	"net"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/reload"
)

// checkReloadAddr accepts an address to listen on: a host (or none, for
// every interface) and a port.
func checkReloadAddr(addr string) error {
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return fmt.Errorf("reload %q: want an address to serve pages on, like 127.0.0.1:8081", addr)
	}
	return nil
}

// startReload starts the browser-reload proxy on addr when it is set: the
// events go through it on their way to next. It returns the publisher to
// hand the events to, and stop, which ends the pages' streams; call it
// after the last event and before next closes.
func startReload(addr string, addrs func() []string, next event.Publisher) (event.Publisher, func(), error) {
	if addr == "" {
		return next, func() {}, nil
	}
	p := reload.New(reload.Config{Addrs: addrs, Events: next})
	at, err := p.Listen(addr)
	if err != nil {
		return nil, nil, err
	}
	next.Publish(event.Log{Source: event.SourceHotrun, Level: "info",
		Text: "browser reload: open the engine's pages at http://" + at + "/ and they follow the code"})
	return p, p.Close, nil
}
