package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// faultResult is the fault run: a steady client while the example goes
// through swaps, shared-package edits, interface-first edits, crashes and
// an init that never returns.
type faultResult struct {
	swaps, hostEdits, ifaceEdits, crashes, hangs int
	// Issue 18's edges: a state type change the new engine can't read
	// and its revert; a shared-package edit with a 60 s request open;
	// versions that crash the engine, in a row; hotrun killed and started
	// again.
	typeChanges, slowHandovers, crashingVersions, killedHotruns int
	typeRefused                                                 bool          // the change was refused, the old engine served on
	slowGap                                                     time.Duration // the others' longest wait during the slow handover
	slowCut                                                     int           // requests the handover cut (request.cut)
	crashDown, crashTook                                        time.Duration // time without answers over the crashing versions, and the sequence's length
	crashDeaths                                                 int           // the engine deaths they caused
	samePID                                                     bool          // the engine hotrun attached to after its kill is the one it left
	killFailed                                                  int64         // requests failed while hotrun was dead and attaching
	sent, failed                                                int64
	gap                                                         time.Duration
	// A crash (the engine killed) loses the requests under way and what
	// changed since the last snapshot: those are counted apart.
	crashFailed int64 // requests that failed during the crash steps
	crashLost   int64 // visits lost to the last snapshot, over all crashes
	resets      int64 // answers with fewer visits than the one before, outside the crash steps
	kept        bool  // no answer outside the crashes had fewer visits than the one before
	visits      int64 // the visits of the last answer
	errs        []string
	took        time.Duration
	// A shared-package edit's save-to-live (a new engine built, readied
	// and handed over), and its floor: the slower of the two bare builds
	// it needs (the engine, the plugin), each after the same kind of edit
	// in a copy of its own, measured right after it under the same client.
	hostLive, hostFloor sample
}

// faults runs the fault sequence on a copy of the example. Every step waits
// for its outcome in hotrun's events, so the figures are about what the
// client saw while hotrun handled each fault.
func (e *env) faults(ctx context.Context, swaps, hostEdits, ifaceEdits int) (*faultResult, error) {
	e.progress("faults: starting")
	start := time.Now()
	dir, err := e.exampleCopy("faults")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// A handler that answers after a minute, or when its request is cut:
	// a stream, a long poll, a slow export.
	if err := patchFile(filepath.Join(dir, "engine", "main.go"), `	log.Printf("engine: serving on`,
		`	mux.Handle("GET /slow", h.Handler(func(w http.ResponseWriter, r *http.Request, _ game.Logic) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	log.Printf("engine: serving on`); err != nil {
		return nil, err
	}
	if err := patchFile(filepath.Join(dir, "engine", "main.go"), `	"net/http"`, "\t\"net/http\"\n\t\"time\""); err != nil {
		return nil, err
	}
	s, err := startSession(e.bin, dir, addr, "-fresh")
	if err != nil {
		return nil, err
	}
	defer func() { s.stop() }() // s changes when hotrun is killed and started again
	wait := func(what string, ok func(event.Event) bool) error {
		_, err := s.wait(ctx, 3*time.Minute, what, ok)
		return err
	}
	live := 0 // the newest version the version list said was live
	waitLive := func(what string) error {
		return wait(what, func(ev event.Event) bool {
			v, ok := ev.(event.Versions)
			if !ok {
				return false
			}
			for _, r := range v.Versions {
				if r.State == event.VersionLive && r.Version > live {
					live = r.Version
					return true
				}
			}
			return false
		})
	}
	if err := waitLive("v1 live"); err != nil {
		return nil, err
	}
	url := "http://" + addr + "/hello?name=test"
	c := startSteady(url)
	defer c.finish()
	edit := func(file string, fn func(string) string) error {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		return os.WriteFile(file, []byte(fn(string(b))), 0o644)
	}
	res := &faultResult{}
	var crashResets int64
	floorDir, err := e.exampleCopy("faults-floor")
	if err != nil {
		return nil, err
	}
	floorOut := filepath.Join(e.tmp, "faults-floor.out")
	// A first build of the floor copy, so its floors are edits, not cold starts.
	if _, err := e.timeGo(ctx, floorDir, "build", "-o", floorOut, "./engine"); err != nil {
		return nil, err
	}
	floorEdit := 0
	bareBuild := func(args ...string) (time.Duration, error) {
		floorEdit++
		if err := edit(filepath.Join(floorDir, "game", "game.go"), func(s string) string {
			return strings.Replace(s, "type State struct {", fmt.Sprintf("type State struct {\n\tfloor%d int // added by the bench", floorEdit), 1)
		}); err != nil {
			return 0, err
		}
		return e.timeGo(ctx, floorDir, args...)
	}
	logic := filepath.Join(dir, "logic", "main.go")
	shared := filepath.Join(dir, "game", "game.go")
	model := 1001
	swap := func() error {
		model++
		if _, err := setVersion(logic, model); err != nil {
			return err
		}
		if err := waitLive(fmt.Sprintf("model %d live", model)); err != nil {
			return err
		}
		res.swaps++
		return c.waitVersion(ctx, model, time.Minute)
	}
	steps := []struct {
		name string
		do   func(i int) error
	}{
		{"shared-package edit", func(i int) error {
			if err := edit(shared, func(s string) string {
				return strings.Replace(s, "type State struct {", fmt.Sprintf("type State struct {\n\tfault%d int // added by the bench", i), 1)
			}); err != nil {
				return err
			}
			wrote := time.Now()
			if err := waitLive("a new engine live after a shared-package edit"); err != nil {
				return err
			}
			// The client's first answer from the new engine marks it live.
			n := c.sent.Load()
			for c.sent.Load() < n+1 {
				time.Sleep(time.Millisecond)
			}
			res.hostLive = append(res.hostLive, time.Since(wrote))
			res.hostEdits++
			engine, err := bareBuild("build", "-o", floorOut, "./engine")
			if err != nil {
				return err
			}
			plugin, err := bareBuild("build", "-buildmode=plugin", "-ldflags="+pluginLDFlags, "-o", floorOut+".so", "./logic")
			if err != nil {
				return err
			}
			res.hostFloor = append(res.hostFloor, max(engine, plugin))
			return nil
		}},
		{"interface-first edit", func(i int) error {
			method := fmt.Sprintf("Fault%d", i)
			if err := edit(shared, func(s string) string {
				return strings.Replace(s, "\tName() string\n", "\tName() string\n\t"+method+"() int\n", 1)
			}); err != nil {
				return err
			}
			if err := wait("the logic failing against the new interface", func(ev event.Event) bool {
				f, ok := ev.(event.BuildFail)
				return ok && f.Target == event.TargetLogic
			}); err != nil {
				return err
			}
			time.Sleep(time.Second) // the old engine serves on, alone
			if err := edit(logic, func(s string) string {
				return s + fmt.Sprintf("\nfunc (model) %s() int { return %d }\n", method, i)
			}); err != nil {
				return err
			}
			res.ifaceEdits++
			return waitLive("a new engine live once the logic implements the interface")
		}},
		{"crash", func(i int) error {
			f0, r0, d0 := c.failed.Load(), c.resets.Load(), c.dropped.Load()
			defer func() {
				res.crashFailed += c.failed.Load() - f0
				crashResets += c.resets.Load() - r0
				res.crashLost += c.dropped.Load() - d0
			}()
			pid := s.enginePID()
			sig := syscall.SIGKILL
			if i%2 == 1 {
				sig = syscall.SIGSEGV
			}
			syscall.Kill(pid, sig)
			if err := wait("the engine's exit", func(ev event.Event) bool {
				x, ok := ev.(event.EngineExit)
				return ok && x.PID == pid
			}); err != nil {
				return err
			}
			res.crashes++
			live = 0
			if err := waitLive("a replacement live after a crash"); err != nil {
				return err
			}
			// The client's first answers from the replacement.
			n := c.sent.Load()
			for c.sent.Load() < n+3 {
				time.Sleep(5 * time.Millisecond)
			}
			return nil
		}},
		{"state type change", func(int) error {
			// The shared state's Visits encoded as a string: the new engine
			// can't read what the serving one saved, so it must not take
			// over; the revert hands over with every visit.
			orig, err := os.ReadFile(shared)
			if err != nil {
				return err
			}
			pid, mark := s.enginePID(), s.mark()
			if err := patchFile(shared, "\tVisits     int\n", "\tVisits     int `json:\",string\"`\n"); err != nil {
				return err
			}
			if err := wait("the new engine refusing the state", func(ev event.Event) bool {
				l, ok := ev.(event.Log)
				return ok && l.Level == "error" && strings.Contains(l.Text, "can't read the saved state")
			}); err != nil {
				return err
			}
			time.Sleep(500 * time.Millisecond)
			// Refused: the engine that served did not hand over (the new
			// one started, and was stopped).
			res.typeRefused = true
			for _, r := range s.since(mark) {
				if x, ok := r.Event.(event.EngineExit); ok && x.PID == pid {
					res.typeRefused = false
				}
			}
			if err := os.WriteFile(shared, orig, 0o644); err != nil {
				return err
			}
			res.typeChanges++
			return waitLive("a new engine live after the revert")
		}},
		{"long request during a handover", func(i int) error {
			slow := make(chan error, 1)
			go func() {
				_, err := get(ctx, "http://"+addr+"/slow")
				slow <- err
			}()
			time.Sleep(300 * time.Millisecond) // under way
			// This step's longest wait is reported apart, against the
			// rest of the run's: it does not count in the run's figure.
			saved := c.gap.Load()
			defer func() { c.gap.Store(saved) }()
			c.stepGap.Store(0)
			mark := s.mark()
			if err := edit(shared, func(s string) string {
				return strings.Replace(s, "type State struct {", fmt.Sprintf("type State struct {\n\tslow%d int // added by the bench", i), 1)
			}); err != nil {
				return err
			}
			if err := waitLive("a new engine live with a long request open"); err != nil {
				return err
			}
			n := c.sent.Load()
			for c.sent.Load() < n+3 {
				time.Sleep(5 * time.Millisecond)
			}
			res.slowGap = max(res.slowGap, time.Duration(c.stepGap.Load()))
			for _, r := range s.since(mark) {
				if _, ok := r.Event.(event.RequestCut); ok {
					res.slowCut++
				}
			}
			select {
			case <-slow:
			case <-time.After(10 * time.Second):
				return fmt.Errorf("the long request still runs 10s after the handover")
			}
			res.slowHandovers++
			return nil
		}},
		{"crashing versions", func(int) error {
			// Six versions in a row whose handler starts a goroutine that
			// panics: each takes the engine down once; none may come back
			// as the fallback.
			f0, r0, d0 := c.failed.Load(), c.resets.Load(), c.dropped.Load()
			down0, start, mark := c.down.Load(), time.Now(), s.mark()
			defer func() {
				res.crashFailed += c.failed.Load() - f0
				crashResets += c.resets.Load() - r0
				res.crashLost += c.dropped.Load() - d0
			}()
			orig, err := os.ReadFile(logic)
			if err != nil {
				return err
			}
			const boom = "func (model) Hello(name string, s game.Snapshot) string {\n\tgo func() { panic(\"boom\") }()\n"
			for range 6 {
				model++
				if err := edit(logic, func(src string) string {
					src = versionRE.ReplaceAllString(src, fmt.Sprintf("modelVersion = %d", model))
					if !strings.Contains(src, "panic(") {
						src = strings.Replace(src, "func (model) Hello(name string, s game.Snapshot) string {\n", boom, 1)
					}
					return src
				}); err != nil {
					return err
				}
				if err := wait(fmt.Sprintf("the engine's crash on model %d", model), func(ev event.Event) bool {
					x, ok := ev.(event.EngineExit)
					return ok && !x.Expected
				}); err != nil {
					return err
				}
				live = 0
				if err := waitLive("the fallback live after a crashing version"); err != nil {
					return err
				}
			}
			res.crashDown, res.crashTook = time.Duration(c.down.Load()-down0), time.Since(start)
			for _, r := range s.since(mark) {
				if x, ok := r.Event.(event.EngineExit); ok && !x.Expected {
					res.crashDeaths++
				}
			}
			if err := os.WriteFile(logic, orig, 0o644); err != nil {
				return err
			}
			res.crashingVersions++
			return swap()
		}},
		{"hotrun killed", func(int) error {
			pid := s.enginePID()
			f0 := c.failed.Load()
			syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL)
			s.cmd.Wait()
			s.logf.Close()
			time.Sleep(time.Second) // the engine serves on, alone
			s2, err := startSession(e.bin, dir, addr)
			if err != nil {
				return err
			}
			s = s2
			live = 0
			if err := wait("the new hotrun attaching", func(ev event.Event) bool {
				es, ok := ev.(event.Engines)
				sv, serving := es.Serving()
				return ok && serving && sv.PID != 0
			}); err != nil {
				return err
			}
			res.samePID = s.enginePID() == pid
			if err := waitLive("a version live after the new hotrun attached"); err != nil {
				return err
			}
			res.killFailed = c.failed.Load() - f0
			res.killedHotruns++
			return nil
		}},
		{"init that never returns", func(int) error {
			const hang = "\nfunc init() { select {} }\n"
			if err := edit(logic, func(s string) string { return s + hang }); err != nil {
				return err
			}
			if err := wait("the hung load's blame", func(ev event.Event) bool { _, ok := ev.(event.Blame); return ok }); err != nil {
				return err
			}
			live = 0
			if err := waitLive("the last good version live on a new engine"); err != nil {
				return err
			}
			res.hangs++
			return edit(logic, func(s string) string { return strings.Replace(s, hang, "", 1) })
		}},
	}
	// The plan: swaps spread between the faults.
	plan := []struct{ step, n int }{{0, hostEdits}, {1, ifaceEdits}, {2, 2}, {7, 1}, {3, 1}, {4, 1}, {5, 1}, {6, 1}}
	faultsTotal := hostEdits + ifaceEdits + 7
	swapsEach := max(1, swaps/faultsTotal)
	for _, p := range plan {
		for i := range p.n {
			for range swapsEach {
				if res.swaps < swaps {
					if err := swap(); err != nil {
						return nil, fmt.Errorf("swap %d: %w", res.swaps+1, err)
					}
				}
			}
			e.progress("faults: %s %d", steps[p.step].name, i+1)
			if err := steps[p.step].do(i); err != nil {
				return nil, fmt.Errorf("%s %d: %w", steps[p.step].name, i+1, err)
			}
		}
	}
	for res.swaps < swaps {
		if err := swap(); err != nil {
			return nil, fmt.Errorf("swap %d: %w", res.swaps+1, err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	c.finish()
	body, err := get(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("the last answer: %w", err)
	}
	_, visits, ok := answer(body)
	res.sent, res.failed = c.sent.Load(), c.failed.Load()
	res.resets = c.resets.Load() - crashResets
	res.gap = time.Duration(c.gap.Load())
	// Every answered request counted once but those a crash lost: the
	// state kept means that many visits at least.
	res.kept = ok && res.resets == 0
	res.visits = int64(visits)
	c.mu.Lock()
	res.errs = append(res.errs, c.errs...)
	c.mu.Unlock()
	res.took = time.Since(start)
	return res, nil
}

// patchFile replaces the first old in file with new.
func patchFile(file, old, new string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if !strings.Contains(string(b), old) {
		return fmt.Errorf("patch %s: no %q in it", file, old)
	}
	return os.WriteFile(file, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}

// print writes the fault run's table.
func (f *faultResult) print(w io.Writer) {
	fmt.Fprintf(w, "\n### Faults: a steady client through swaps, engine handovers and failures (the example, hot swap)\n\n")
	fmt.Fprintf(w, "| %d swaps · %d shared-package edits · %d interface-first edits · %d crashes · %d init that never returns · the edges below | figure | target | met |\n|---|---|---|---|\n",
		f.swaps, f.hostEdits, f.ifaceEdits, f.crashes, f.hangs)
	fmt.Fprintf(w, "| requests failed / sent, outside the crashes | %d / %d | 0 | %s |\n", f.failed-f.crashFailed, f.sent, check(f.failed == f.crashFailed))
	fmt.Fprintf(w, "| requests failed at the %d crashes and the crashing versions (under way when the engine died) | %d | | |\n", f.crashes, f.crashFailed)
	fmt.Fprintf(w, "| longest wait with no answer | %s | | |\n", f.gap.Round(time.Millisecond))
	kept := "kept"
	if !f.kept {
		kept = fmt.Sprintf("NOT kept (%d answers with fewer visits than the one before)", f.resets)
	}
	fmt.Fprintf(w, "| state (visits) through swaps, handovers and the hung init | %s | kept | %s |\n", kept, check(f.kept))
	fmt.Fprintf(w, "| visits lost at the crashes (changed since the last snapshot) | %d | | |\n", f.crashLost)
	fmt.Fprintf(w, "| visits at the end / requests answered | %d / %d | | |\n", f.visits, f.sent-f.failed)
	if len(f.hostLive) > 0 {
		ratio := float64(f.hostLive.median()) / float64(f.hostFloor.median())
		fmt.Fprintf(w, "| a shared-package edit live (new engine built, readied, handed over) | %s | | |\n", f.hostLive)
		fmt.Fprintf(w, "| the slower of its two bare builds (engine, plugin), interleaved | %s | | |\n", f.hostFloor)
		fmt.Fprintf(w, "| host change ÷ floor | %.2f × | ≤ 1.1 × | %s |\n", ratio, check(ratio <= 1.1))
	}
	if f.typeChanges > 0 {
		fmt.Fprintf(w, "| a state type change the new engine can't read, then its revert | %s; visits never went back: %s | refused, kept | %s |\n",
			map[bool]string{true: "refused, the old engine served on", false: "NOT refused"}[f.typeRefused], map[bool]string{true: "yes", false: "NO"}[f.kept], check(f.typeRefused && f.kept))
	}
	if f.slowHandovers > 0 {
		ratio := float64(f.slowGap) / float64(f.gap)
		fmt.Fprintf(w, "| a shared-package edit with a 60 s request open: the others' longest wait | %s (%d request cut) | ≤ 1.5 × the run's longest wait (%s) | %s |\n",
			f.slowGap.Round(time.Millisecond), f.slowCut, f.gap.Round(time.Millisecond), check(ratio <= 1.5))
	}
	if f.crashingVersions > 0 {
		fmt.Fprintf(w, "| 6 versions in a row that crash the engine: time without answers (spells over %s) | %s in %s, %d engine deaths, each replaced at once on the last version no engine died on | | |\n",
			downAfter, f.crashDown.Round(time.Millisecond), f.crashTook.Round(100*time.Millisecond), f.crashDeaths)
	}
	if f.killedHotruns > 0 {
		fmt.Fprintf(w, "| hotrun killed (kill -9) and started again: the same engine, requests failed | %s, %d failed | same pid, 0 | %s |\n",
			map[bool]string{true: "same pid", false: "ANOTHER pid"}[f.samePID], f.killFailed, check(f.samePID && f.killFailed == 0))
	}
	fmt.Fprintf(w, "| the run took | %s | | |\n", f.took.Round(time.Second))
	if len(f.errs) > 0 {
		fmt.Fprintf(w, "\nFirst failures: %s\n", strings.Join(f.errs, "; "))
	}
}
