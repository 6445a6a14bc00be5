package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/lab"
)

// TestLabCheck runs every lab as `hotrun lab -check NAME` does: a fresh
// copy of the example, one hotrun session, every step made with its
// reference edits and keys, and every step's expected events waited for.
// The labs run one after the other, each in a session of its own, on the
// build cache the ones before warmed.
func TestLabCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds and runs the example once per lab; skipped with -short")
	}
	for _, l := range lab.All() {
		t.Run(l.Name, func(t *testing.T) {
			var out bytes.Buffer
			start := time.Now()
			err := run(context.Background(), []string{"lab", "-check", l.Name}, strings.NewReader(""), &out, &out)
			if err != nil {
				t.Errorf("hotrun lab -check %s: %v\nits lines:\n%s", l.Name, err, out.String())
			}
			t.Logf("%s: %s", l.Name, time.Since(start).Round(time.Second))
		})
	}
}

// TestLab drives a lab as a learner does, in a real terminal: hotrun lab
// global-var starts on a fresh copy of the example with the lab pane
// showing the first step's goal and file; the learner makes the step's
// edit in the file, and the pane says the step is done, what hotrun did
// and the rule behind it, and shows the next step; p shows the step done
// again, n the next one; q quits. Started again, the lab goes on at the
// step where it stopped, in the same copy.
func TestLab(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds hotrun and the example and runs them in tmux; skipped with -short")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("the lab's screen test runs hotrun in a tmux terminal, and tmux is not installed: ", err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "hotrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	home := filepath.Join(tmp, "home") // where the lab is run, and its progress kept
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	project := filepath.Join(home, "hotrun-lab-global-var")
	s := &tmuxScreen{t: t, tmux: tmux, socket: filepath.Join(tmp, "tmux")}
	pids := []int{}
	start := func(flags string) {
		t.Helper()
		cmd := "XDG_CONFIG_HOME=" + shellQuote(filepath.Join(home, "config")) + " EDITOR=true " + shellQuote(bin) + " lab " + flags + "global-var"
		if _, err := s.do("-f", "/dev/null", "new-session", "-d", "-s", "hotrun", "-x", "100", "-y", "40", "-c", home, cmd,
			";", "set-option", "-t", "hotrun", "remain-on-exit", "on"); err != nil {
			t.Fatal(err)
		}
		out, err := s.do("display-message", "-p", "-t", "hotrun", "#{pane_pid}")
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(out))
		pids = append(pids, pid)
	}
	quit := func() {
		t.Helper()
		s.press("q")
		deadline := time.Now().Add(30 * time.Second)
		for {
			if dead, status := s.dead(); dead {
				if status != "" && status != "0" {
					t.Errorf("hotrun lab exited with status %s, want 0; the screen:\n%s", status, s.capture())
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("hotrun lab still running 30s after q; the screen:\n%s", s.capture())
			}
			time.Sleep(100 * time.Millisecond)
		}
		s.do("kill-server")
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last screen:\n%s", s.last)
		}
		s.do("kill-server")
		for _, pid := range pids {
			for wait := time.Now().Add(30 * time.Second); processRunning(pid) && time.Now().Before(wait); {
				time.Sleep(100 * time.Millisecond)
			}
		}
	})

	start("")
	s.waitFor(buildWait, "the lab pane on the first step, with its file and line", regexp.MustCompile(
		`(?s)lab global-var · step 1 of 3 .*▸ A global in the logic: In logic/main\.go, count calls.*edit hotrun-lab-global-var/logic/main\.go:\d+ · e opens it`))
	s.waitFor(buildWait, "v1 live, answering the probes", regexp.MustCompile(`(?s)\n v1 live .*GET /hello\?name=again +200`))

	// e opens the step's file in $EDITOR (here true, which exits at once)
	// and gives the screen back.
	s.press("e")
	s.waitFor(10*time.Second, "the screen back after the editor", regexp.MustCompile(`lab global-var · step 1 of 3`))

	// The learner's edit: a global that counts calls.
	p := filepath.Join(project, "logic", "main.go")
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(src), "import (\n", "import (\n\t\"fmt\"\n\n", 1)
	text = strings.Replace(text, "func (model) Hello(name string, s game.Snapshot) string {\n\treturn greet.Hello(name, modelVersion, modelName, s)\n}",
		"var calls int\n\nfunc (model) Hello(name string, s game.Snapshot) string {\n\tcalls++\n\treturn greet.Hello(name, modelVersion, modelName, s) + fmt.Sprintf(\", calls=%d\", calls)\n}", 1)
	if text == string(src) {
		t.Fatal("the example's logic/main.go is not as the test expects")
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s.waitFor(buildWait, "the step done, explained, and the next one open", regexp.MustCompile(
		`(?s)lab global-var · step 2 of 3 .*✓ step 1 done: A global in the logic.*seen: v2 answered .*calls=2.*why: A package-level variable.*https://go\.dev/ref/spec#Variable_declarations.*▸ A swap: Change modelVersion to 1002`))
	s.waitFor(10*time.Second, "the step in the timeline", regexp.MustCompile(`✓ lab global-var: step 1 done: A global in the logic`))

	// p shows the step done again, with what it taught; n goes back.
	s.press("p")
	s.waitFor(10*time.Second, "step 1 shown again, done", regexp.MustCompile(`(?s)lab global-var · step 1 of 3 .*✓ step 1 done: A global in the logic`))
	s.press("n")
	s.waitFor(10*time.Second, "step 2 again", regexp.MustCompile(`(?s)lab global-var · step 2 of 3 .*▸ A swap`))
	quit()

	// Started again (in the presenter layout, as a teacher would), the lab
	// goes on where it stopped, in the same copy.
	start("-big ")
	s.waitFor(buildWait, "the lab at step 2, step 1 marked done", regexp.MustCompile(
		`(?s)lab global-var · step 2 of 3 ─+ ●○○.*▸ A swap`))
	if b, err := os.ReadFile(p); err != nil || !strings.Contains(string(b), "calls++") {
		t.Errorf("the copy lost the learner's edit: %v", err)
	}
	s.waitFor(buildWait, "v1 live again, under the lab pane the presenter layout's probes", regexp.MustCompile(
		`(?s)\n ● v1 live .*▸ lab global-var · step 2 of 3 .*probes · what the live version answers`))
	quit()

	// hotrun lab lists it as begun.
	out, err := exec.Command("sh", "-c", "XDG_CONFIG_HOME="+shellQuote(filepath.Join(home, "config"))+" "+shellQuote(bin)+" lab").CombinedOutput()
	if err != nil || !regexp.MustCompile(`global-var +a global variable .* +1 of 3 steps done`).Match(out) {
		t.Errorf("hotrun lab: %v\n%s", err, out)
	}
}
