package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// crashHelperEnv makes the test binary the program of TestCrashTerminal
// (the os/exec tests' helper process): its value is the crash directory.
const crashHelperEnv = "HOTRUN_TUI_CRASH_HELPER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashHelperEnv); dir != "" {
		os.Exit(crashHelper(dir))
	}
	os.Exit(m.Run())
}

// crashHelper runs the screen in the terminal it was started in, on a
// session with an event that panics, with a controller whose r panics;
// when the screen gives up, it goes on with plain lines, as cmd/hotrun
// does.
func crashHelper(dir string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	records := make(chan event.Record, 100)
	for _, r := range session() {
		records <- r
	}
	records <- at(50, bomb{})
	err := Run(ctx, Options{Project: "crash", Records: records, Control: &panicky{}, CrashDir: dir, Now: fixedNow})
	if !errors.Is(err, ErrCrashed) {
		fmt.Println("Run returned", err)
		return 1
	}
	fmt.Printf("hotrun: %v: plain lines from here\n", err)
	records <- at(70, event.Log{Source: event.SourceEngine, Text: "served after the screen gave up"})
	close(records)
	p := event.NewPlain(os.Stdout)
	for r := range records {
		p.Print(r)
	}
	return 0
}

// TestCrashTerminal runs the screen in a real terminal (a tmux pane) and
// makes it panic the ways a user would meet: an event it can't handle at
// the start, a key whose call panics. Each time the screen goes on (the
// next key works) and the timeline names the crash log; once the panics
// keep coming it gives the terminal back and plain lines follow, and the
// program ends well: bubbletea never saw a panic.
func TestCrashTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the screen in tmux; skipped with -short")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("this test runs the screen in a tmux terminal, and tmux is not installed: ", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// A tmux server of the test's own (-S: its socket goes with the
	// temporary directory), so the user's tmux never sees it.
	sock := filepath.Join(t.TempDir(), "tmux")
	do := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	cmd := fmt.Sprintf("env %s='%s' '%s' -test.run='^$'", crashHelperEnv, dir, exe)
	do("-f", "/dev/null", "new-session", "-d", "-s", "crash", "-x", "100", "-y", "30", cmd,
		";", "set-option", "-t", "crash", "remain-on-exit", "on")
	t.Cleanup(func() { exec.Command(tmux, "-S", sock, "kill-server").Run() })

	var last string
	waitFor := func(what string, ok func(string) bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			last = do("capture-pane", "-p", "-J", "-S", "-", "-t", "crash") // -J: a wrapped line whole; -S -: and what scrolled off
			if ok(last) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s on the screen; the screen:\n%s", what, last)
			}
		}
	}
	has := func(s ...string) func(string) bool {
		return func(screen string) bool {
			for _, s := range s {
				if !strings.Contains(screen, s) {
					return false
				}
			}
			return true
		}
	}

	waitFor("the session and the bomb's crash on the timeline", has("engine running · pid 4242",
		"✗ hotrun's screen recovered from a panic in the screen: bomb: boom\n", "  while handling a bomb event, which it skipped; stack in /"))
	do("send-keys", "-t", "crash", "r")
	waitFor("the r key's crash on the timeline", has("✗ hotrun's screen recovered from a panic in the screen: rebuild: boom\n",
		"  while handling the key r; stack in /"))
	do("send-keys", "-t", "crash", "R")
	waitFor("the next key taken", has("engine restart requested"))
	if n := len(crashLogs(t, dir, "")); n != 2 {
		t.Errorf("%d crash logs after two panics, want 2", n)
	}

	// Two more panics within the minute: the screen gives up.
	do("send-keys", "-t", "crash", "r")
	do("send-keys", "-t", "crash", "r")
	waitFor("plain lines after the screen", has("hotrun: tui: the screen kept panicking (the last crash log: "+dir,
		"engine | served after the screen gave up"))
	if strings.Contains(last, "requests · ") || strings.Contains(last, "Caught panic") {
		t.Errorf("the screen was not given back, or bubbletea caught a panic:\n%s", last)
	}
	waitFor("the program's end", func(string) bool {
		return strings.TrimSpace(do("display-message", "-p", "-t", "crash", "#{pane_dead}")) == "1"
	})
	if status := strings.TrimSpace(do("display-message", "-p", "-t", "crash", "#{pane_dead_status}")); status != "0" && status != "" {
		t.Errorf("the program exited with status %s, want 0", status)
	}
	logs := crashLogs(t, dir, "panic: ")
	if len(logs) != crashLimit+1 {
		t.Errorf("%d crash logs, want %d", len(logs), crashLimit+1)
	}
}
