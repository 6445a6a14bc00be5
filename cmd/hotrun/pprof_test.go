package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// TestPProf runs hotrun with -pprof and asks it for its goroutines, as a
// user looking into a long session would; once hotrun has returned, the
// address no longer answers.
func TestPProf(t *testing.T) {
	// Port 0: the port the system picked is in what hotrun says.
	s := startSession(t, "-pprof", "127.0.0.1:0")
	said := waitFor(s, buildWait, func(e event.Log) bool { return strings.Contains(e.Text, "pprof") })
	m := regexp.MustCompile(`http://(127\.0\.0\.1:[1-9]\d*)/debug/pprof/`).FindStringSubmatch(said.Text)
	if m == nil {
		t.Fatalf("hotrun said %q, want the profiles' address", said.Text)
	}
	addr := m[1]
	url := "http://" + addr + "/debug/pprof/goroutine?debug=1"
	waitFor(s, buildWait, func(e event.LoadOK) bool { return true })
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "goroutine profile: total ") {
		t.Fatalf("GET %s = %d %.200q, want a goroutine profile", url, resp.StatusCode, b)
	}
	// The mux is pprof's alone: nothing else is served there.
	if resp, err := http.Get("http://" + addr + "/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET / = %d, want 404", resp.StatusCode)
		}
	}
	if err := s.stop(); err != nil {
		t.Fatalf("hotrun returned %v", err)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	if resp, err := c.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("after hotrun returned, %s still answers %d", url, resp.StatusCode)
	}
}
