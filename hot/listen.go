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
		h.hold(name, ln, true)
		return ln, nil
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	h.hold(network+":"+addr, ln, false)
	return ln, nil
}

// hold remembers a listener the engine serves on. hotrun keeps every
// socket open while the engine restarts and passes it to the next engine:
// one the engine opened itself is handed to hotrun now, or at attach if
// hotrun is not attached yet; an inherited one, which hotrun holds
// already, only to a hotrun that attaches later (the one before died).
func (h *Host[T]) hold(name string, ln net.Listener, inherited bool) {
	h.handMu.Lock()
	defer h.handMu.Unlock()
	l := listener{name: name, ln: ln, inherited: inherited}
	h.held = append(h.held, l)
	if !inherited && h.out != nil {
		h.hand(l)
	}
}

// handAgain hands every listener the engine serves on to the hotrun that
// just attached, which has none of them: it keeps them open across the
// engine restarts it makes.
func (h *Host[T]) handAgain() {
	h.handMu.Lock()
	defer h.handMu.Unlock()
	for _, l := range h.held {
		h.hand(l)
	}
}

// hand sends hotrun a duplicate of l's socket; h.handMu is held.
func (h *Host[T]) hand(l listener) {
	if fl, ok := l.ln.(interface{ File() (*os.File, error) }); ok {
		if f, err := fl.File(); err == nil {
			h.out.file(l.name, f)
		}
	}
}

// listener is a listening socket the engine serves on.
type listener struct {
	name      string // "network:addr", as in protocol.EnvListeners
	ln        net.Listener
	inherited bool // hotrun passed it down: it holds the socket already
}
