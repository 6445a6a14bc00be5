package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotrun-dev/hotrun/runner"
)

// tuiResult is the TUI's figures.
type tuiResult struct {
	benchLines float64 // BenchmarkRequestFlood's lines/s: Update+View alone

	live     string  // why there is no live figure, or ""
	rate     float64 // requests/s the engine answered under the load
	cpu      float64 // hotrun's CPU meanwhile, % of one core
	after    float64 // hotrun's CPU in the second after the load: catching up
	lag      time.Duration
	rssStart int64 // hotrun's RSS before and after the load
	rssEnd   int64
}

var linesRE = regexp.MustCompile(`\s([0-9.e+]+) lines/s`)

// tuiFigures runs the tui package's BenchmarkRequestFlood and, unless
// -short, the real TUI in tmux under ~10 000 requests a second.
func (e *env) tuiFigures(ctx context.Context) (*tuiResult, error) {
	e.progress("tui: BenchmarkRequestFlood")
	benchtime := "5x"
	if e.o.short {
		benchtime = "1x"
	}
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "RequestFlood", "-benchtime", benchtime, "./tui")
	cmd.Dir = e.repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench RequestFlood ./tui: %v\n%s", err, out)
	}
	m := linesRE.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("BenchmarkRequestFlood printed no lines/s:\n%s", out)
	}
	r := &tuiResult{}
	r.benchLines, _ = strconv.ParseFloat(string(m[1]), 64)
	if !e.o.tuiLive {
		r.live = "skipped (-short)"
		return r, nil
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		r.live = "skipped (no tmux)"
		return r, nil
	}
	if err := e.tuiLive(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

var screenTimeRE = regexp.MustCompile(`(?m)^\s*(\d\d:\d\d:\d\d\.\d\d\d) +GET`)

// tuiLive runs hotrun with its TUI in a tmux session of its own and sends
// the engine ~10 000 requests a second for 5 s.
func (e *env) tuiLive(ctx context.Context, r *tuiResult) error {
	dir, err := e.exampleCopy("tui")
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	const name = "hotrun"
	tm := &tmuxServer{socket: filepath.Join(e.tmp, "tmux-tui")}
	shell := strings.Join([]string{"cd", shellQuote(e.tmp), "&&", "exec", shellQuote(e.bin), "-config", "''", "-dir", shellQuote(dir),
		"--", "-addr", addr, "2>" + shellQuote(dir+".hotrun.log")}, " ")
	e.progress("tui: hotrun in tmux (-S %s)", tm.socket)
	pid, err := tm.start(name, 120, 40, shell)
	if err != nil {
		return err
	}
	// q quits hotrun, which stops its engine; then the server goes.
	defer tm.quit(name, 5*time.Second)
	url := "http://" + addr + "/hello?name=test"
	if _, err := untilVersion(ctx, url, 1001, buildWait); err != nil {
		return err
	}
	time.Sleep(time.Second)

	const rate, secs, workers = 10_000, 5, 8
	r.rssStart = runner.RSS(pid)
	c0, t0 := cpuTicks(pid), time.Now()
	var ok atomic.Int64
	var wg sync.WaitGroup
	stop := t0.Add(secs * time.Second)
	for w := range workers {
		wg.Go(func() {
			// Each worker paces itself to rate/workers requests a second,
			// one request at a time on one kept-alive connection, written
			// and read by hand: net/http's client costs more CPU than the
			// engine does, and the machine has few cores to share.
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer conn.Close()
			br := bufio.NewReader(conn)
			req := []byte("GET /hello?name=test HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")
			every := time.Second * workers / rate
			next := t0.Add(time.Duration(w) * every / workers)
			for i := 0; i < rate*secs/workers && time.Now().Before(stop); i++ {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				next = next.Add(every)
				conn.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := conn.Write(req); err != nil {
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil {
					return
				}
				if resp.StatusCode == 200 {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	end := time.Now()
	c1 := cpuTicks(pid)
	r.rate = float64(ok.Load()) / end.Sub(t0).Seconds()
	r.cpu = float64(c1-c0) / clockTick / end.Sub(t0).Seconds() * 100
	// The newest request line on screen, against the end of the load:
	// how far the screen is behind.
	screen, _ := tm.capture(name)
	if ms := screenTimeRE.FindAllStringSubmatch(screen, -1); len(ms) > 0 {
		newest := ""
		for _, m := range ms {
			newest = max(newest, m[1])
		}
		if t, err := time.ParseInLocation("15:04:05.000", newest, time.Local); err == nil {
			y, mo, d := end.Date()
			t = time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.Local)
			r.lag = end.Sub(t)
		}
	} else {
		r.lag = -1
	}
	time.Sleep(time.Second)
	r.after = float64(cpuTicks(pid)-c1) / clockTick / time.Since(end).Seconds() * 100
	r.rssEnd = runner.RSS(pid)
	return nil
}
