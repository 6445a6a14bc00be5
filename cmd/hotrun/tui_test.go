package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tuiProbe is the probe TestTUI runs hotrun with: the repository's own
// hotrun.toml probes the same request.
const tuiProbe = "GET /hello?name=test"

// tmuxScreen is the real hotrun binary running in a real terminal: a tmux
// pane of 100×30 on a tmux server of its own, so parallel tests and the
// user's own tmux never meet.
type tmuxScreen struct {
	t      *testing.T
	tmux   string // the tmux executable
	socket string // the private server's socket (tmux -S), in a temporary directory
	last   string // the screen as last captured, for failure messages
}

// do runs a tmux command on the private server.
func (s *tmuxScreen) do(args ...string) (string, error) {
	out, err := exec.Command(s.tmux, append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// capture returns the text on the screen, one line per row, no escapes.
func (s *tmuxScreen) capture() string {
	s.t.Helper()
	out, err := s.do("capture-pane", "-p", "-t", "hotrun")
	if err != nil {
		s.t.Fatalf("%v\nlast screen:\n%s", err, s.last)
	}
	s.last = out
	return out
}

// waitFor polls the screen every 100 ms until re matches it, and returns
// the submatches; after d it fails the test and shows the screen.
func (s *tmuxScreen) waitFor(d time.Duration, what string, re *regexp.Regexp) []string {
	s.t.Helper()
	var m []string
	s.waitUntil(d, what+" (want /"+re.String()+"/)", func(screen string) bool {
		m = re.FindStringSubmatch(screen)
		return m != nil
	})
	return m
}

// waitUntil polls the screen every 100 ms until ok accepts it; after d it
// fails the test and shows the screen.
func (s *tmuxScreen) waitUntil(d time.Duration, what string, ok func(screen string) bool) {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for !ok(s.capture()) {
		if time.Now().After(deadline) {
			s.t.Fatalf("no %s on the screen within %s; the screen:\n%s", what, d, s.last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *tmuxScreen) press(key string) {
	s.t.Helper()
	if _, err := s.do("send-keys", "-t", "hotrun", key); err != nil {
		s.t.Fatal(err)
	}
}

// dead reports whether hotrun has exited, and its exit status.
func (s *tmuxScreen) dead() (bool, string) {
	s.t.Helper()
	out, err := s.do("display-message", "-p", "-t", "hotrun", "#{pane_dead} #{pane_dead_status}#{pane_dead_signal}")
	if err != nil {
		s.t.Fatal(err)
	}
	dead, status, _ := strings.Cut(strings.TrimSpace(out), " ")
	return dead == "1", status
}

// shellQuote quotes s for the sh -c that tmux runs the command with.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestTUI drives the real binary in a real terminal, as a user would: start
// it with a probe, see v1 live, serving and answering the probe; save an
// edit and see v2 live, its diff (d) and the probe's new answer beside the
// old one; open the version list (v), select v1 and make it live (l); press
// R and see a new engine with the state restored, then make v2, which the
// new engine never loaded, live from the list; press q and find nothing left
// running. It looks only at the text on the screen and at the engine's
// answers, and waits generously: it asserts what happens, never how fast.
func TestTUI(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds hotrun and the example and runs them in tmux; skipped with -short")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("the TUI test runs hotrun in a tmux terminal, and tmux is not installed: ", err)
	}
	bin := filepath.Join(t.TempDir(), "hotrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir, addr := exampleCopy(t), freeAddr(t)

	// A socket path of the test's own (tmux -S rather than -L, whose
	// sockets outlive their server in /tmp/tmux-UID): removed with the
	// test's temporary directory.
	s := &tmuxScreen{t: t, tmux: tmux, socket: filepath.Join(t.TempDir(), "tmux")}
	cmd := strings.Join([]string{shellQuote(bin), "-config", "''", "-dir", shellQuote(dir),
		"-probe", shellQuote(tuiProbe), "--", "-addr", shellQuote(addr)}, " ")
	// -f /dev/null: none of the user's settings. remain-on-exit keeps the
	// pane after hotrun exits, so the test can see how it ended; it is set
	// in the same tmux call, long before the first build is done.
	if _, err := s.do("-f", "/dev/null", "new-session", "-d", "-s", "hotrun", "-x", "100", "-y", "30", "-c", dir, cmd,
		";", "set-option", "-t", "hotrun", "remain-on-exit", "on"); err != nil {
		t.Fatal(err)
	}
	paneOut, err := s.do("display-message", "-p", "-t", "hotrun", "#{pane_pid}")
	if err != nil {
		t.Fatal(err)
	}
	hotrunPID, _ := strconv.Atoi(strings.TrimSpace(paneOut))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last screen:\n%s", s.last)
		}
		s.do("kill-server")
		// A test that failed half-way leaves hotrun to end on the hangup:
		// wait for it, so it writes nothing more into the temporary
		// directory being removed.
		for wait := time.Now().Add(30 * time.Second); hotrunPID > 0 && processRunning(hotrunPID) && time.Now().Before(wait); {
			time.Sleep(100 * time.Millisecond)
		}
	})

	// get asks the engine itself and returns its answer. Every request,
	// the probes' too, counts a visit in the engine's state.
	get := func(want string) string {
		t.Helper()
		resp, err := http.Get("http://" + addr + "/hello?name=test")
		if err != nil {
			t.Fatalf("GET /hello: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Fatalf("GET /hello = %d %q, want %s", resp.StatusCode, b, want)
		}
		return string(b)
	}
	// logged matches the n-th request of the log (counting from 1, the
	// probes' included) served by version v: the request pane's title
	// counts them.
	logged := func(n, v int) *regexp.Regexp {
		return regexp.MustCompile(fmt.Sprintf(`(?s)requests · %d .*GET +/hello\S* +200 +\S+ v%d\n`, n, v))
	}
	// probed matches the probe pane's answer from version v holding body,
	// and, when was is not "", the answer before it on the next line.
	probed := func(v int, body, was string) *regexp.Regexp {
		// A long first answer goes on over a second line.
		re := fmt.Sprintf(`(?m)^ GET /hello\?name=test +200 +\S+ v%d  .*(?:\n    .*)?%s`, v, regexp.QuoteMeta(body))
		if was != "" {
			re += `.*\n +was .*` + regexp.QuoteMeta(was)
		}
		return regexp.MustCompile(re)
	}

	m := s.waitFor(buildWait, "v1 live under a running engine",
		regexp.MustCompile(`engine running · pid (\d+)\n v1 live `))
	pid, _ := strconv.Atoi(m[1])
	// The probe is sent once v1 is live: the first request of the log.
	s.waitFor(loadWait, "the probe's answer from v1", probed(1, "version=1001", ""))
	s.waitFor(10*time.Second, "the probe in the request log", logged(1, 1))
	get("version=1001, name=game1")
	s.waitFor(10*time.Second, "the request served by v1", logged(2, 1))

	p := filepath.Join(dir, "logic", "main.go")
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	src = []byte(strings.NewReplacer("1001", "1002", `"game1"`, `"game2"`).Replace(string(src)))
	if err := os.WriteFile(p, src, 0o644); err != nil {
		t.Fatal(err)
	}
	s.waitFor(buildWait, "v2 live", regexp.MustCompile(`\n v2 live `))
	s.waitFor(10*time.Second, "the change, with its lines counted, and v2's load in the timeline",
		regexp.MustCompile(`(?s)change: logic/main\.go \+2 −2.*✓ v2 live \(loaded in`))
	// What v2 answers, with what v1 answered under it.
	s.waitFor(loadWait, "the probe's answer from v2 over v1's",
		probed(2, "version=1002, name=game2", "version=1001, name=game1"))
	s.waitFor(10*time.Second, "the probe of v2 in the request log", logged(3, 2))
	get("version=1002, name=game2")
	s.waitFor(10*time.Second, "the request served by v2", logged(4, 2))

	// d: the diff of the live version against the one before, from the
	// supervisor's staged trees.
	s.press("d")
	s.waitFor(10*time.Second, "the diff view", regexp.MustCompile(`▸ diff v1 → v2`))
	s.waitFor(10*time.Second, "the edit in the diff", regexp.MustCompile(
		`(?ms)^\+\+\+ \S*main\.go\n.*^-\s*modelVersion\s*=\s*1001\n.*^\+\s*modelVersion\s*=\s*1002\n`))
	s.press("Escape")
	s.waitFor(5*time.Second, "the panes again", regexp.MustCompile(`requests · 4 `))

	// v: the version list, the live version selected. j selects v1, l
	// makes it live.
	s.press("v")
	s.waitFor(5*time.Second, "the version list with v2 live and v1 loaded",
		regexp.MustCompile(`(?ms)▸ versions · 2\b.*^▸ v2 +live .*main\.go \+2 −2\n^  v1 +loaded `))
	s.press("j")
	s.waitFor(5*time.Second, "v1 selected", regexp.MustCompile(`(?m)^▸ v1 +loaded `))
	s.press("l")
	s.waitFor(loadWait, "v1 live in the list and in the header", regexp.MustCompile(
		`(?ms)^ v1 live since [^\n]*\(switched\).*^  v2 +loaded .*^▸ v1 +live `))
	s.press("Escape")
	s.waitFor(10*time.Second, "v1 made live in the timeline", regexp.MustCompile(`! rolled back v2 → v1`))
	s.waitFor(loadWait, "the probe's answer from v1 over v2's",
		probed(1, "version=1001, name=game1", "version=1002, name=game2"))
	s.waitFor(10*time.Second, "the probe of v1 in the request log", logged(5, 1))
	body := get("version=1001, name=game1")
	s.waitFor(10*time.Second, "the request served by v1 again", logged(6, 1))
	if !strings.Contains(s.last, "engine running · pid "+strconv.Itoa(pid)) {
		t.Errorf("the engine changed under a logic edit and a switch, want pid %d still", pid)
	}
	n := visits(t, body)

	// R: a new engine, with the state and the version that was serving.
	s.press("R")
	running := regexp.MustCompile(`engine running · pid (\d+)\n v1 live `)
	old := pid
	s.waitUntil(loadWait, "a new engine with v1 live", func(screen string) bool {
		m := running.FindStringSubmatch(screen)
		if m == nil {
			return false
		}
		pid, _ = strconv.Atoi(m[1])
		return pid != old
	})
	// The new engine starts before the old one hands over and exits: the
	// timeline has both, in either order.
	restarted := []*regexp.Regexp{
		regexp.MustCompile(fmt.Sprintf(`! engine restarting \(pid %d\): restart asked for\n`, old)),
		regexp.MustCompile(fmt.Sprintf(`• engine started, pid %d\n`, pid)),
		regexp.MustCompile(fmt.Sprintf(`engine pid %d exited \(code 0\)`, old)),
		regexp.MustCompile(`✓ state restored \(\d+ bytes\)`),
	}
	s.waitUntil(10*time.Second, "the restart, its reason, both engines and the restored state in the timeline", func(screen string) bool {
		for _, re := range restarted {
			if !re.MatchString(screen) {
				return false
			}
		}
		return true
	})
	if !running.MatchString(s.last) {
		t.Errorf("the header no longer says the new engine runs with v1 live once the old one exited")
	}
	// A new engine is probed: one more visit.
	s.waitFor(loadWait, "the probe of the new engine in the request log", logged(7, 1))

	// The new engine holds only v1: v2 is built for it, not loaded, and l
	// loads it.
	s.press("v")
	s.waitFor(10*time.Second, "the version list with v2 built and v1 live",
		regexp.MustCompile(`(?ms)^  v2 +built .*^▸ v1 +live `))
	s.press("k")
	s.waitFor(5*time.Second, "v2 selected", regexp.MustCompile(`(?m)^▸ v2 +built `))
	s.press("l")
	s.waitFor(loadWait, "v2 loaded into the new engine and live", regexp.MustCompile(
		`(?ms)^ v2 live since .*^▸ v2 +live .*^  v1 +loaded `))
	s.press("Escape")
	s.waitFor(loadWait, "the probe's answer from v2 over v1's on the new engine",
		probed(2, "version=1002, name=game2", "version=1001, name=game1"))
	s.waitFor(10*time.Second, "the probe of v2 in the request log", logged(8, 2))
	// The visits went on from where the old engine left them: its six,
	// and the new engine's two probes and this request.
	get(fmt.Sprintf("version=1002, name=game2, oldversion=1001, oldName=game1, visits=%d", n+3))

	s.press("q")
	deadline := time.Now().Add(30 * time.Second)
	for {
		dead, status := s.dead()
		if dead {
			// tmux may mark the pane dead when its terminal closes, before
			// it has reaped the process, and then show no status for a
			// while (or, seen here, at all): the status is checked when
			// tmux has one; that hotrun is gone is checked in any case.
			for wait := time.Now().Add(3 * time.Second); status == "" && time.Now().Before(wait); {
				time.Sleep(100 * time.Millisecond)
				_, status = s.dead()
			}
			if status != "" && status != "0" {
				t.Errorf("hotrun exited with status %s, want 0; the screen:\n%s", status, s.capture())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hotrun still running 30s after q; the screen:\n%s", s.capture())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for hotrunPID > 0 && processRunning(hotrunPID) {
		if time.Now().After(deadline) {
			t.Fatalf("hotrun (pid %d) still running after q", hotrunPID)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// hotrun stops the engine before it returns: nothing may be left.
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("engine pid %d still running after hotrun exited", pid)
	}
	engine := filepath.Join(dir, ".hotrun", "bin", "engine")
	if out, err := exec.Command("pgrep", "-f", engine).Output(); err == nil {
		t.Errorf("engine processes left after hotrun exited: %s", out)
	}
}

// processRunning reports whether pid is a live process: not gone, and not a
// zombie that its parent (tmux) has yet to reap.
func processRunning(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S …".
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}
