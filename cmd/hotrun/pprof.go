package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// checkPProfAddr accepts only a loopback address with a port: the profiles
// show hotrun's memory, command line and goroutines' stacks, and serving
// them beyond this machine would hand them to anyone who asks.
func checkPProfAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("pprof %q: %v (want 127.0.0.1:PORT)", addr, err)
	}
	if port == "" {
		return fmt.Errorf("pprof %q: no port (want 127.0.0.1:PORT)", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("pprof %q: not a loopback address (want 127.0.0.1:PORT or [::1]:PORT)", addr)
	}
	return nil
}

// servePProf serves Go's profiles of hotrun itself (net/http/pprof) on
// addr, on a mux of its own: nothing else answers there, and nothing the
// import puts on http.DefaultServeMux is served. It returns the address it
// listens on and stop, which closes the server and waits for it: hotrun
// calls it on its way out, so no profile outlives the session.
func servePProf(addr string) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	// Index also serves every named profile: /debug/pprof/heap,
	// /debug/pprof/goroutine?debug=1, …
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{}) // closed when Serve has returned
	go func() {
		defer close(done)
		// Serve returns http.ErrServerClosed once stopped; any other
		// failure costs hotrun its profiles and nothing else.
		srv.Serve(ln)
	}()
	stop := func() {
		// Close, not Shutdown: a 30 s CPU profile under way must not hold
		// hotrun's exit.
		srv.Close()
		<-done
	}
	return ln.Addr().String(), stop, nil
}
