package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotrun-dev/hotrun/event"
)

// browser starts a headless Chromium of the test's own (a fresh profile,
// nothing reached beyond this machine) and returns a tab's context.
func browser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("drives a real browser: skipped with -short")
	}
	exe := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		t.Skip("no chromium on PATH: CI installs Debian's (.ci/run); apt-get install chromium to run this test")
	}
	// Without these a headless Chromium on a machine with no network
	// waits on connections it will never get.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 700),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// eval evaluates a JavaScript expression in the tab.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// untilPage polls the tab, without acting on it, until ok holds for the
// page's text and its overlay's; it returns when it saw that.
func untilPage(t *testing.T, ctx context.Context, d time.Duration, what string, ok func(text, overlay string) bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(d)
	var text, overlay string
	for time.Now().Before(deadline) {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		var err error
		text, err = chromedp.Run(c, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		if err == nil {
			overlay, err = chromedp.Run(c, chromedp.Evaluate[string](`(document.getElementById("hotrun-overlay")?.shadowRoot?.textContent) || ""`))
		}
		cancel()
		if err == nil && ok(text, overlay) {
			return time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the page never showed %s within %s; it shows %q, overlay %q", what, d, text, overlay)
	return time.Time{}
}

// waitRecord is waitFor, returning the record: its time is when hotrun
// published the event.
func waitRecord[E event.Event](s *session, d time.Duration, ok func(E) bool) (E, time.Time) {
	s.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case rec, open := <-s.events:
			if !open {
				s.t.Fatalf("hotrun ended while waiting for %T", *new(E))
			}
			fmt.Fprintf(&s.log, "%s %s\n", rec.Time.Format("15:04:05.000"), event.Format(rec.Event))
			if e, is := rec.Event.(E); is && (ok == nil || ok(e)) {
				return e, rec.Time
			}
		case <-timeout:
			s.t.Fatalf("no %T event within %s", *new(E), d)
		}
	}
}

func liveIs(n int) func(event.Versions) bool {
	return func(e event.Versions) bool {
		for _, v := range e.Versions {
			if v.State == event.VersionLive {
				return v.Version == n
			}
		}
		return false
	}
}

// TestBrowserFollowsCode is issue 21's browser loop, in a real headless
// Chromium: the example's page, opened through -reload's proxy, shows a
// logic edit within a second of the version going live with no action by
// the test; a compile error leaves the page as it was, with the error in
// an overlay; the fix reloads it and the overlay goes; a shared-package
// edit hands over to a new engine, and the page reloads once the new
// engine serves.
func TestBrowserFollowsCode(t *testing.T) {
	ctx := browser(t)
	proxy := freeAddr(t)
	s := startSession(t, "-fresh", "-reload", proxy)
	start := waitFor[event.EngineStart](s, buildWait, nil)
	waitFor(s, loadWait, liveIs(1))

	page := "http://" + proxy + "/hello?name=test"
	if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
		t.Fatal(err)
	}
	untilPage(t, ctx, 10*time.Second, "v1's answer", func(text, _ string) bool { return strings.Contains(text, "version=1001") })
	// A mark that only this load of the page holds: gone means reloaded.
	mark := func() { eval[bool](t, ctx, `window.__mark = true`) }
	marked := func() bool { return eval[bool](t, ctx, `window.__mark === true`) }
	mark()

	s.edit("logic/main.go", func(src string) string {
		return strings.NewReplacer("1001", "1002", `"game1"`, `"game2"`).Replace(src)
	})
	_, liveAt := waitRecord(s, buildWait, liveIs(2))
	seen := untilPage(t, ctx, 10*time.Second, "v2's answer", func(text, _ string) bool { return strings.Contains(text, "version=1002") })
	if d := seen.Sub(liveAt); d > time.Second {
		t.Errorf("the page showed v2 %s after it went live, want within a second", d)
	}
	t.Logf("v2 on the page %s after it went live", seen.Sub(liveAt).Round(time.Millisecond))
	if marked() {
		t.Error("the page shows v2 but was not reloaded")
	}

	mark()
	s.edit("logic/main.go", func(src string) string { return src + "\nfunc broken( {\n" })
	waitFor(s, buildWait, func(e event.BuildFail) bool { return e.Target == event.TargetLogic })
	untilPage(t, ctx, 5*time.Second, "the overlay with the compile error", func(text, overlay string) bool {
		return strings.Contains(overlay, "did not build") && strings.Contains(overlay, "main.go") && strings.Contains(text, "version=1002")
	})
	if !marked() {
		t.Error("a failed build reloaded the page")
	}

	s.edit("logic/main.go", func(src string) string {
		return strings.Replace(strings.Replace(src, "\nfunc broken( {\n", "", 1), "1002", "1003", 1)
	})
	_, liveAt = waitRecord(s, buildWait, liveIs(4))
	seen = untilPage(t, ctx, 10*time.Second, "the fix, without the overlay", func(text, overlay string) bool {
		return strings.Contains(text, "version=1003") && overlay == ""
	})
	if d := seen.Sub(liveAt); d > time.Second {
		t.Errorf("the page showed the fix %s after it went live, want within a second", d)
	}
	t.Logf("the fix on the page, overlay gone, %s after it went live", seen.Sub(liveAt).Round(time.Millisecond))

	// A shared-package edit: a new engine takes over, and the page reloads
	// once it serves.
	mark()
	s.edit("game/game.go", replace("// Visit counts one request", "// Visit counts one request (edited)"))
	next := waitFor(s, buildWait, func(e event.EngineStart) bool { return e.PID != start.PID })
	_, liveAt = waitRecord(s, loadWait, liveIs(5))
	seen = untilPage(t, ctx, 10*time.Second, "the new engine's answer", func(text, _ string) bool {
		return strings.Contains(text, "hello test") && strings.Contains(text, "version=1003") && !strings.Contains(text, "Waiting")
	})
	if marked() {
		t.Errorf("the page was not reloaded after the handover to pid %d", next.PID)
	}
	if d := seen.Sub(liveAt); d > time.Second {
		t.Errorf("the page showed the new engine's answer %s after it served, want within a second", d)
	}
	t.Logf("the new engine's answer on the page %s after it served", seen.Sub(liveAt).Round(time.Millisecond))
}
