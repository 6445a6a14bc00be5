package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// templVersion is the templ the generator test installs, from the Go
// module proxy.
const templVersion = "v0.3.1118"

var (
	templOnce sync.Once
	templBin  string
	templErr  error
)

// installTempl installs templ's command into a directory of the test
// binary's own, once per run: `go install` builds it from the module
// cache (downloaded the first time) and the build cache after that.
func installTempl(t *testing.T) string {
	t.Helper()
	templOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hotrun-templ-")
		if err != nil {
			templErr = err
			return
		}
		cmd := exec.Command("go", "install", "github.com/a-h/templ/cmd/templ@"+templVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			templErr = err
			templBin = string(out)
			return
		}
		templBin = filepath.Join(dir, "templ")
	})
	if templErr != nil {
		t.Fatalf("go install templ@%s: %v\n%s", templVersion, templErr, templBin)
	}
	return templBin
}

// templApp copies testdata/templapp, a templ project whose generated code
// is not there yet, to a scratch module using this repository's hot.
func templApp(t *testing.T) string { return moduleCopy(t, "testdata/templapp") }

// quiet reads events for d and fails on any build or change: what the
// generators wrote must not build again.
func (s *session) quiet(d time.Duration) {
	s.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case rec, open := <-s.events:
			if !open {
				s.t.Fatal("hotrun ended")
			}
			s.log.WriteString(rec.Time.Format("15:04:05.000") + " " + event.Format(rec.Event) + "\n")
			switch e := rec.Event.(type) {
			case event.Change:
				s.t.Errorf("a change after the build: %v (the generators' own output?)", e.Files)
			case event.BuildStart:
				s.t.Errorf("a second build: %s", event.Format(e))
			case event.BuildCanceled:
				s.t.Errorf("a build canceled: %s", event.Format(e))
			}
		case <-timeout:
			return
		}
	}
}

// TestBeforeBuildTempl is issue 21's generator loop on a templ project:
// `-before-build "templ generate"` runs before the session's first build
// (the generated code is not there yet) and before the build of each save
// of a .templ file; its run is an event with the files it wrote; the page
// serves what it generated; the generated file starts no second build; a
// .templ that doesn't parse fails the build with templ's words and the old
// version keeps serving; the fix goes live.
func TestBeforeBuildTempl(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: installs templ, builds a templ project and runs its engine; skipped with -short")
	}
	templ := installTempl(t)
	dir := templApp(t)
	s := runSession(t, dir, freeAddr(t), "-fresh", "-before-build", templ+" generate")

	gen := waitFor(s, buildWait, func(e event.Generate) bool { return true })
	if gen.Error != "" || !hasFile(gen.Files, "hello_templ.go") {
		t.Fatalf("the first generate: %s", event.Format(gen))
	}
	waitFor(s, loadWait, liveIs(1))
	if _, body := s.get("/?name=ada"); !strings.Contains(body, "<h1>Hello, ada!</h1>") {
		t.Fatalf("v1 answered %q", body)
	}
	s.quiet(1500 * time.Millisecond)

	s.edit("logic/views/hello.templ", replace("<h1>Hello, { name }!</h1>", "<h1>Hi there, { name }!</h1>"))
	ch := waitFor(s, buildWait, func(e event.Change) bool { return true })
	if len(ch.Files) != 1 || !strings.HasSuffix(ch.Files[0], "hello.templ") {
		t.Errorf("the change: %v, want the .templ file alone", ch.Files)
	}
	gen = waitFor(s, buildWait, func(e event.Generate) bool { return true })
	if gen.Error != "" || !hasFile(gen.Files, "hello_templ.go") {
		t.Errorf("generate after the edit: %s", event.Format(gen))
	}
	ok := waitFor(s, buildWait, func(e event.BuildOK) bool { return e.Target == event.TargetLogic })
	waitFor(s, loadWait, liveIs(ok.Version))
	if _, body := s.get("/?name=ada"); !strings.Contains(body, "<h1>Hi there, ada!</h1>") {
		t.Errorf("v%d answered %q", ok.Version, body)
	}
	s.quiet(1500 * time.Millisecond)

	s.edit("logic/views/hello.templ", replace("<p>visits", "<p>visits {"))
	gen = waitFor(s, buildWait, func(e event.Generate) bool { return true })
	if gen.Error == "" {
		t.Errorf("a .templ that doesn't parse generated: %s", event.Format(gen))
	}
	fail := waitFor(s, buildWait, func(e event.BuildFail) bool { return true })
	if !strings.Contains(fail.Error, "before_build") || !strings.Contains(fail.Error, "hello.templ") {
		t.Errorf("the build failure doesn't carry templ's words: %q", fail.Error)
	}
	if _, body := s.get("/?name=ada"); !strings.Contains(body, "<h1>Hi there, ada!</h1>") {
		t.Errorf("after a failed generate the app answered %q, want v%d's page", body, ok.Version)
	}

	s.edit("logic/views/hello.templ", replace("<p>visits {", "<p>seen"))
	ok2 := waitFor(s, buildWait, func(e event.BuildOK) bool { return e.Target == event.TargetLogic })
	waitFor(s, loadWait, liveIs(ok2.Version))
	if _, body := s.get("/?name=ada"); !strings.Contains(body, "<p>seen: ") {
		t.Errorf("the fix answered %q", body)
	}
	s.quiet(1500 * time.Millisecond)
}

// hasFile reports whether a file of files ends with suffix.
func hasFile(files []string, suffix string) bool {
	for _, f := range files {
		if strings.HasSuffix(f, suffix) {
			return true
		}
	}
	return false
}
