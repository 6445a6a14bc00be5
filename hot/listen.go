package hot

import (
	"github.com/hotrun-dev/hotrun/hot/protocol"

	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// Listen returns a listener for addr. Call it before Start: an engine
// that hotrun starts beside the serving one then holds the socket from its
// first moment, and connections wait in the backlog, never refused, until
// it serves.
//
// Under hotrun the socket outlives the engine: hotrun keeps it open and
// hands it to the next engine as an inherited file descriptor (named in
// protocol.EnvListeners as "network:addr=fd;…"), which Listen then uses;
// otherwise it opens its own with net.Listen and hands hotrun a copy.
func (h *Host[T]) Listen(network, addr string) (net.Listener, error) {
	for _, spec := range strings.Split(os.Getenv(protocol.EnvListeners), ";") {
		name, fdText, ok := strings.Cut(spec, "=")
		if !ok || name != network+":"+addr {
			continue
		}
		fd, err := strconv.Atoi(fdText)
		if err != nil {
			return nil, fmt.Errorf("hot: %s: bad descriptor %q", protocol.EnvListeners, fdText)
		}
		f := os.NewFile(uintptr(fd), name)
		ln, err := net.FileListener(f)
		f.Close() // FileListener dup'ed it
		if err != nil {
			return nil, fmt.Errorf("hot: inherited listener %s: %w", name, err)
		}
		h.hold(name, ln)
		return ln, nil
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	h.hold(network+":"+addr, ln)
	if os.Getenv(protocol.EnvControl) != "" {
		// Hand hotrun a duplicate of the socket: it keeps the socket open
		// while the engine restarts and passes it to the next engine.
		if fl, ok := ln.(interface{ File() (*os.File, error) }); ok {
			if f, err := fl.File(); err == nil {
				h.handMu.Lock()
				if h.out != nil {
					h.out.file(network+":"+addr, f)
				} else {
					h.handoff = append(h.handoff, handoff{name: network + ":" + addr, file: f})
				}
				h.handMu.Unlock()
			}
		}
	}
	return ln, nil
}

// hold remembers a listener the engine serves on: a hotrun that attaches
// later (the one before died) gets it again.
func (h *Host[T]) hold(name string, ln net.Listener) {
	h.handMu.Lock()
	defer h.handMu.Unlock()
	h.held = append(h.held, handoff{name: name, ln: ln})
}

// handAgain hands every listener the engine serves on to the hotrun that
// just attached, which has none of them: it keeps them open across the
// engine restarts it makes.
func (h *Host[T]) handAgain() {
	h.handMu.Lock()
	defer h.handMu.Unlock()
	for _, held := range h.held {
		if fl, ok := held.ln.(interface{ File() (*os.File, error) }); ok {
			if f, err := fl.File(); err == nil {
				h.out.file(held.name, f)
			}
		}
	}
}

// handoff is a listening socket to hand to hotrun.
type handoff struct {
	name string
	file *os.File     // a duplicate to hand over at attach
	ln   net.Listener // the listener itself, for hold
}
