package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The long session (-long): what a day of saves costs hotrun. The real
// binary runs with its TUI in a tmux pane of the bench's own, hot swap,
// recycling on, a steady client throughout; each save is the one-line edit,
// waited for until it serves. At checkpoints the bench reads hotrun from the
// outside (/proc, its own -pprof) and the screen; at the end, the CPU it and
// its engine use idle, next to air's.

const (
	longPause  = 50 * time.Millisecond  // between a save going live and the next save
	longClient = 10 * time.Millisecond  // the steady client's pause between requests
	longWindow = 50                     // save-to-live at a checkpoint: the median of this many saves up to it (fewer swing with the machine's load)
	idleSettle = 10 * time.Second       // quiet before the idle figure
	idleWindow = 30 * time.Second       // the idle figure's window
	screenWait = 5 * time.Second        // for the screen to show a checkpoint's version
	pprofWait  = 5 * time.Second        // for hotrun's goroutine profile
	quitWait   = 30 * time.Second       // for hotrun to quit on q
	longScreen = "hotrun"               // the tmux session
	longProbe  = "GET /hello?name=test" // the probe: the screen shows what the live version answers
)

// longResult is the long session's figures.
type longResult struct {
	saves, recycle     int
	started            time.Time
	took               time.Duration
	loadStart, loadEnd string
	rows               []longRow
	ref                int // the row the last one is compared with (save 100 of 1000), or -1
	size               int // the row whose .hotrun size the last one must not pass (save 20: what recycling keeps), or -1
	// .hotrun one save after the first and after the last recycle: the
	// same place in the cycle (the new engine holds 2 versions), so the
	// two say whether what recycling keeps grows over the session.
	recycled [2]savedSize

	missed               int // saves not live within 20 s, saved again
	sent, failed, resets int64
	dropped              int64 // visits lost at the resets
	gap                  time.Duration
	errs                 []string
	engines              int // engine processes seen over the session
	screenFails          int // checkpoints whose screen did not show the live version
	log                  string

	idleHotrun, idleEngine int64  // CPU ticks over idleWindow
	air                    string // air's version, or why it was not measured
	idleAir, idleApp       int64
	app                    string // the processes under air, by name
}

// settledSize returns .hotrun's apparent size once two readings 200 ms
// apart agree (at most 3 s): hotrun prunes off its loop, a moment after
// the version it follows went live.
func settledSize(dir string) int64 {
	last, _, _ := dirSize(dir)
	for range 15 {
		time.Sleep(200 * time.Millisecond)
		n, _, _ := dirSize(dir)
		if n == last {
			break
		}
		last = n
	}
	return last
}

// savedSize is .hotrun's apparent size after a save.
type savedSize struct {
	save  int
	bytes int64
}

// longRow is one checkpoint.
type longRow struct {
	save       int
	asked      bool   // a checkpoint asked for; false: the row the size target needs
	screen     string // the live version the screen shows, "v21"
	loaded     string // the versions the engine holds, as the screen says
	screenOK   bool   // it shows the answer of the version just saved, and the engine's pid
	live, own  time.Duration
	cpuPerSave time.Duration // hotrun's CPU since the row before, per save
	rss        int64
	goroutines int
	fds        int
	watches    int
	apparent   int64
	allocated  int64
	parts      map[string]int64 // apparent, by the entry of .hotrun they are under
	cycleMax   int64            // the largest apparent size after any of the last -recycle saves: the size depends on where in its cycle the engine is
	engineRSS  int64
	engines    int // engine processes now
	restarts   int // engines started since the first
}

// defaultCheckpoints are 1, 100, 500 and 1000 scaled to saves.
func defaultCheckpoints(saves int) []int {
	var out []int
	for _, c := range []int{1, saves / 10, saves / 2, saves} {
		if c >= 1 && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// long runs the long session.
func (e *env) long(ctx context.Context) (*longResult, error) {
	o := e.o
	if _, err := exec.LookPath("tmux"); err != nil {
		return nil, fmt.Errorf("-long drives hotrun's TUI in tmux, and tmux is not installed: %v", err)
	}
	res := &longResult{saves: o.saves, recycle: o.recycle, started: time.Now(), loadStart: loadAvg(), ref: -1, size: -1}
	dir, err := e.exampleCopy("long")
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	hotDir := filepath.Join(real, ".hotrun")
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	pprofAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	res.log = dir + ".hotrun.log"
	tm := &tmuxServer{socket: filepath.Join(e.tmp, "tmux-long")}
	shell := strings.Join([]string{"cd", shellQuote(e.tmp), "&&", "exec", shellQuote(e.bin), "-config", "''", "-dir", shellQuote(dir),
		"-max-versions", strconv.Itoa(o.recycle), "-pprof", pprofAddr, "-probe", shellQuote(longProbe),
		"--", "-addr", addr, "2>" + shellQuote(res.log)}, " ")
	e.progress("long: hotrun with its TUI in tmux (-S %s), -max-versions %d, -pprof %s", tm.socket, o.recycle, pprofAddr)
	pid, err := tm.start(longScreen, 120, 40, shell)
	if err != nil {
		return nil, err
	}
	quit := func() {
		if !tm.quit(longScreen, quitWait) {
			e.progress("long: hotrun did not quit within %s of q; its tmux server is gone, and with it its terminal", quitWait)
		}
	}
	defer func() {
		if pid != 0 {
			quit()
		}
	}()
	url := "http://" + addr + "/hello?name=test"
	if _, err := untilVersion(ctx, url, 1001, buildWait); err != nil {
		return nil, fmt.Errorf("%w (hotrun's stderr: %s)", err, tail(res.log, 10))
	}

	// Every engine process hotrun runs is a child whose executable is in
	// the project's .hotrun: go commands and compilers are not.
	seen := map[int]bool{}
	engines := func() []int {
		var out []int
		for _, c := range children(pid) {
			if strings.HasPrefix(exePath(c), hotDir+string(filepath.Separator)) {
				out = append(out, c)
				seen[c] = true
			}
		}
		return out
	}
	engines()

	c := startPaced(url, longClient, 100_000+o.saves*1000)
	defer c.finish()
	logic := filepath.Join(dir, "logic", "main.go")
	var lives []savedLive
	var sizes []int64               // .hotrun's apparent size after each save
	restarts, sinceRecycle := 0, -1 // saves since the last recycle; -1 before the first
	var mr modeResult               // counts missed saves
	ticks, ticksAt := cpuTicks(pid), 0
	next := 0 // the next checkpoint in o.checkpoints
	start := time.Now()
	e.progress("long: %d saves, checkpoints %v", o.saves, o.checkpoints)
	for i := 1; i <= o.saves; i++ {
		v := 1001 + i
		wrote, err := setVersion(logic, v)
		if err != nil {
			return nil, err
		}
		live, missed, err := mr.untilLive(ctx, url, logic, v)
		if err != nil {
			screen, _ := tm.capture(longScreen)
			return nil, fmt.Errorf("save %d: %w; the screen:\n%s", i, err, screen)
		}
		if !missed {
			lives = append(lives, savedLive{i, live.Sub(wrote)})
		}
		engines()
		// .hotrun after every save (a walk of a few dozen files): what it
		// holds depends on where the engine is in its recycling cycle.
		size, _, _ := dirSize(hotDir)
		sizes = append(sizes, size)
		if r := len(seen) - 1; r > restarts {
			restarts, sinceRecycle = r, 0
		} else if sinceRecycle >= 0 {
			if sinceRecycle++; sinceRecycle == 1 {
				at := savedSize{i, settledSize(hotDir)}
				if res.recycled[0].save == 0 {
					res.recycled[0] = at
				}
				res.recycled[1] = at
			}
		}
		asked := next < len(o.checkpoints) && o.checkpoints[next] == i
		if asked || i == o.recycle {
			row := e.longRow(ctx, tm, pid, pprofAddr, hotDir, i, v, lives, engines)
			row.asked = asked
			row.cycleMax = slices.Max(sizes[max(0, len(sizes)-max(o.recycle, 1)):])
			t := cpuTicks(pid)
			if i > ticksAt {
				row.cpuPerSave = time.Duration(t-ticks) * time.Second / clockTick / time.Duration(i-ticksAt)
			}
			ticks, ticksAt = t, i
			row.restarts = len(seen) - 1
			if !row.screenOK {
				res.screenFails++
			}
			res.rows = append(res.rows, row)
			if asked {
				next++
			}
			if i == o.recycle {
				res.size = len(res.rows) - 1
			}
			el := time.Since(start)
			e.progress("long: save %d of %d, %s so far, about %s to go", i, o.saves, el.Round(time.Second),
				(el / time.Duration(i) * time.Duration(o.saves-i)).Round(time.Second))
		}
		time.Sleep(longPause)
	}
	c.finish()
	res.sent, res.failed, res.resets, res.dropped = c.sent.Load(), c.failed.Load(), c.resets.Load(), c.dropped.Load()
	res.gap = time.Duration(c.gap.Load())
	res.errs = c.errs
	res.missed = mr.missed
	res.engines = len(seen)
	asked := 0
	for i, r := range res.rows {
		if r.asked {
			if asked++; asked == 2 {
				res.ref = i // the second checkpoint: save 100 of 1000
				break
			}
		}
	}

	e.progress("long: idle: %s quiet, then %s measured", idleSettle, idleWindow)
	if err := sleep(ctx, idleSettle); err != nil {
		return nil, err
	}
	eng := engines()
	d, err := ticksOver(ctx, idleWindow, append([]int{pid}, eng...)...)
	if err != nil {
		return nil, err
	}
	res.idleHotrun = d[0]
	for _, t := range d[1:] {
		res.idleEngine += t
	}
	res.loadEnd = loadAvg()
	quit()
	pid = 0
	res.took = time.Since(res.started)

	if !o.air {
		res.air = "not measured (-no-air)"
		return res, nil
	}
	if err := e.airIdle(ctx, res); err != nil {
		e.progress("air: %v", err)
		res.air = "n/a: " + firstLine(err.Error())
	}
	return res, nil
}

// savedLive is one save's save-to-live.
type savedLive struct {
	save int
	live time.Duration
}

// longRow reads one checkpoint: hotrun from /proc and its -pprof, the
// engine, .hotrun, and the screen.
func (e *env) longRow(ctx context.Context, tm *tmuxServer, pid int, pprofAddr, hotDir string, save, v int, lives []savedLive, engines func() []int) longRow {
	time.Sleep(300 * time.Millisecond) // let the swap's aftermath (probe, snapshot, pruning) settle
	row := longRow{save: save}
	last := lives[max(0, len(lives)-longWindow):]
	var s sample
	for _, l := range last {
		s = append(s, l.live)
	}
	row.live = s.median()
	if len(lives) > 0 && lives[len(lives)-1].save == save {
		row.own = lives[len(lives)-1].live
	}
	row.rss = vmRSS(pid)
	row.fds = openFDs(pid)
	row.watches = inotifyWatches(pid)
	settledSize(hotDir)
	row.apparent, row.allocated, row.parts = dirSize(hotDir)
	if n, err := goroutines(ctx, pprofAddr); err != nil {
		e.progress("long: save %d: goroutines: %v", save, err)
	} else {
		row.goroutines = n
	}
	eng := engines()
	row.engines = len(eng)
	for _, p := range eng {
		row.engineRSS += vmRSS(p)
	}
	// The screen: the probe's answer from the version just saved, and the
	// engine's pid in the header.
	want := regexp.MustCompile(fmt.Sprintf(`version=%d,`, v))
	var screen string
	for deadline := time.Now().Add(screenWait); ; time.Sleep(100 * time.Millisecond) {
		screen, _ = tm.capture(longScreen)
		if want.MatchString(screen) || time.Now().After(deadline) {
			break
		}
	}
	if m := regexp.MustCompile(`\bv(\d+) live since\b`).FindStringSubmatch(screen); m != nil {
		row.screen = "v" + m[1]
	}
	if m := regexp.MustCompile(`\b(\d+) versions? loaded\b`).FindStringSubmatch(screen); m != nil {
		row.loaded = m[1]
	}
	pidOK := false
	if m := regexp.MustCompile(`engine running · pid (\d+)`).FindStringSubmatch(screen); m != nil {
		n, _ := strconv.Atoi(m[1])
		pidOK = slices.Contains(eng, n)
	}
	row.screenOK = row.screen != "" && want.MatchString(screen) && pidOK
	// Every checkpoint's screen, for a look with -keep.
	name := filepath.Join(e.tmp, fmt.Sprintf("long-screen-%d.txt", save))
	os.WriteFile(name, []byte(screen), 0o644)
	if !row.screenOK {
		e.progress("long: save %d: the screen does not show version=%d live on engine %v (%s)", save, v, eng, name)
	}
	return row
}

// goroutines asks hotrun's -pprof how many goroutines it runs.
func goroutines(ctx context.Context, addr string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, pprofWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/debug/pprof/goroutine?debug=1", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return parseGoroutineTotal(string(b))
}

// ticksOver is the CPU ticks each of pids used over d.
func ticksOver(ctx context.Context, d time.Duration, pids ...int) ([]int64, error) {
	t0 := make([]int64, len(pids))
	for i, p := range pids {
		t0[i] = cpuTicks(p)
	}
	if err := sleep(ctx, d); err != nil {
		return nil, err
	}
	out := make([]int64, len(pids))
	for i, p := range pids {
		out[i] = cpuTicks(p) - t0[i]
	}
	return out, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// airIdle runs air on the example's plain twin, waits until its app serves,
// and measures air's and the app's CPU idle, as for hotrun.
func (e *env) airIdle(ctx context.Context, res *longResult) error {
	a, err := e.launchAir(ctx, projects[0], "air-long")
	if err != nil {
		return err
	}
	defer a.logf.Close()
	defer stopAir(a.cmd)
	res.air = a.version
	e.progress("long: air: idle: %s quiet, then %s measured", idleSettle, idleWindow)
	if err := sleep(ctx, idleSettle); err != nil {
		return err
	}
	pid := a.cmd.Process.Pid
	app := descendants(pid)
	var names []string
	for _, p := range app {
		names = append(names, comm(p))
	}
	res.app = strings.Join(names, ", ")
	d, err := ticksOver(ctx, idleWindow, append([]int{pid}, app...)...)
	if err != nil {
		return err
	}
	res.idleAir = d[0]
	for _, t := range d[1:] {
		res.idleApp += t
	}
	return nil
}

// print writes the long session's tables and its targets.
func (r *longResult) print(w io.Writer, args []string) {
	cmd := "go run ./bench"
	if len(args) > 0 {
		cmd += " " + strings.Join(args, " ")
	}
	fmt.Fprintf(w, "`%s` · %s %s/%s, %d CPUs · %s, load average %s at the start, %s at the end · took %s\n\n",
		cmd, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), r.started.Format("2006-01-02 15:04"),
		r.loadStart, r.loadEnd, r.took.Round(time.Second))
	fmt.Fprintf(w, "### A long session: %d saves of the example, hot swap, `-max-versions %d`, the TUI in tmux, a steady client\n\n", r.saves, r.recycle)
	fmt.Fprintf(w, "| save | screen | save-to-live (median of the last %d · this save) | hotrun CPU per save | hotrun RSS | goroutines | open fds | inotify watches | `.hotrun` (apparent · allocated · largest over the last %d saves) | engine RSS | engines · restarts |\n", longWindow, r.recycle)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, row := range r.rows {
		save := strconv.Itoa(row.save)
		if !row.asked {
			save += " (recycle)"
		}
		screen := row.screen + " " + check(row.screenOK)
		if row.loaded != "" {
			screen = row.screen + " · " + row.loaded + " loaded " + check(row.screenOK)
		}
		if row.screen == "" {
			screen = "✗"
		}
		own := "missed"
		if row.own > 0 {
			own = ms(row.own)
		}
		fmt.Fprintf(w, "| %s | %s | %s · %s | %s | %s | %s | %d | %d | %s · %s · %s | %s | %d · %d |\n",
			save, screen, ms(row.live), own, ms(row.cpuPerSave), mb(row.rss), countOr(row.goroutines), row.fds, row.watches,
			mb(row.apparent), mb(row.allocated), mb(row.cycleMax), mb(row.engineRSS), row.engines, row.restarts)
	}
	fmt.Fprintf(w, "\nscreen: the live version in the TUI's header and the versions its engine holds, ✓ when the screen shows the probe's answer from the version just saved and the pid of the engine found under hotrun. hotrun CPU per save: its user+system time since the row before, over the saves since (the steady client's request lines included). `.hotrun`: the sum of its files' sizes (apparent), the blocks they take (allocated), and the largest apparent size after any of the last %d saves: the plugins an engine holds stay, so the size rises and falls with the recycling cycle, as the engine's RSS and the versions it holds do.\n", r.recycle)
	fmt.Fprintf(w, "\n`.hotrun` by what holds it (apparent):")
	for i, row := range r.rows {
		sep := ";"
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(w, "%s at save %d %s", sep, row.save, sizeParts(row.parts))
	}
	fmt.Fprintln(w, ".")
	fmt.Fprintf(w, "\nSteady client, one request every %s on a new connection: %d failed of %d; longest gap with no answer %s; visits went down %d times, %d visits lost (the state is carried across recycling: 0 expected). Saves not live within 20 s (saved again): %d. Engines started: %d. Checkpoints whose screen was wrong: %d.\n",
		longClient, r.failed, r.sent, ms(r.gap), r.resets, r.dropped, r.missed, r.engines, r.screenFails)
	if len(r.errs) > 0 {
		fmt.Fprintf(w, "\nFirst failed requests: %s\n", strings.Join(r.errs, "; "))
	}

	fmt.Fprintf(w, "\nIdle: CPU ticks (user+system, %d a second) over %s, after %s with no save and no client:\n\n", clockTick, idleWindow, idleSettle)
	fmt.Fprintln(w, "| process | ticks | target | met |")
	fmt.Fprintln(w, "|---|---|---|---|")
	fmt.Fprintf(w, "| hotrun, TUI open | %d | ≤ 2 | %s |\n", r.idleHotrun, check(r.idleHotrun <= 2))
	fmt.Fprintf(w, "| its engine | %d | | |\n", r.idleEngine)
	if strings.HasPrefix(r.air, "v") {
		fmt.Fprintf(w, "| air %s | %d | | |\n", r.air, r.idleAir)
		fmt.Fprintf(w, "| air's app (%s) | %d | | |\n", r.app, r.idleApp)
	} else {
		fmt.Fprintf(w, "| air | %s | | |\n", r.air)
	}

	fmt.Fprintln(w, "\nTargets:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | figures | met |")
	fmt.Fprintln(w, "|---|---|---|")
	fmt.Fprintf(w, "| idle CPU with the TUI open ≤ 2 ticks per 30 s | %d | %s |\n", r.idleHotrun, check(r.idleHotrun <= 2))
	if len(r.rows) == 0 {
		return
	}
	last := r.rows[len(r.rows)-1]
	if r.size >= 0 && r.size < len(r.rows) && r.rows[r.size].save < last.save {
		at := r.rows[r.size]
		// A cycle is recycle-1 saves (the new engine starts holding one
		// version), so saves 20 and 1000 fall at other places in it, and
		// the plugins the engine holds stay: the point figures say where,
		// not whether .hotrun grows. The two rows below say that.
		fmt.Fprintf(w, "| `.hotrun` after %d saves · after %d (apparent; point figures, at other places in the recycling cycle: the engine holds %s and %s versions) | %s · %s (%s) | |\n", last.save, at.save,
			last.loaded, at.loaded, mb(last.apparent), mb(at.apparent), signedBytes(last.apparent-at.apparent))
		fmt.Fprintf(w, "| `.hotrun`, the largest after any of the %d saves up to save %d · up to save %d: a whole cycle each | %s · %s (%s) | |\n", r.recycle, last.save, at.save,
			mb(last.cycleMax), mb(at.cycleMax), signedBytes(last.cycleMax-at.cycleMax))
	}
	if a, b := r.recycled[0], r.recycled[1]; b.save > a.save {
		fmt.Fprintf(w, "| `.hotrun` one save after the last recycle (save %d) ≤ one save after the first (save %d): what recycling keeps, at the same place in the cycle | %s · %s (%s) | %s |\n",
			b.save, a.save, mb(b.bytes), mb(a.bytes), signedBytes(b.bytes-a.bytes), check(b.bytes <= a.bytes))
	}
	if r.ref >= 0 && r.ref < len(r.rows)-1 {
		ref := r.rows[r.ref]
		within := func(name string, a, b float64, f func(float64) string) {
			d := "—"
			met := "✗"
			if b > 0 {
				d = fmt.Sprintf("%+.0f %%", (a-b)/b*100)
				met = check(a >= 0.9*b && a <= 1.1*b)
			}
			fmt.Fprintf(w, "| %s at save %d within 10 %% of save %d | %s · %s (%s) | %s |\n", name, last.save, ref.save, f(a), f(b), d, met)
		}
		dur := func(x float64) string { return ms(time.Duration(x)) }
		bytes := func(x float64) string { return mb(int64(x)) }
		n := func(x float64) string { return strconv.Itoa(int(x)) }
		within("save-to-live (median)", float64(last.live), float64(ref.live), dur)
		within("hotrun RSS", float64(last.rss), float64(ref.rss), bytes)
		within("goroutines", float64(last.goroutines), float64(ref.goroutines), n)
		within("open fds", float64(last.fds), float64(ref.fds), n)
	}
}

// sizeParts is "build 36.0 MB, bin 10.0 MB, stage 764 KB", largest first.
func sizeParts(parts map[string]int64) string {
	names := slices.Collect(maps.Keys(parts))
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(parts[b], parts[a]), cmp.Compare(a, b)) })
	var out []string
	for _, n := range names {
		out = append(out, n+" "+humanBytes(parts[n]))
	}
	return strings.Join(out, ", ")
}

// humanBytes is b in B, KB or MB.
func humanBytes(b int64) string {
	switch {
	case b >= 1<<20:
		return mb(b)
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// signedBytes is a difference in bytes, "+312 B" or "−1.2 MB".
func signedBytes(d int64) string {
	if d < 0 {
		return "−" + humanBytes(-d)
	}
	return "+" + humanBytes(d)
}

func countOr(n int) string {
	if n == 0 {
		return "—"
	}
	return strconv.Itoa(n)
}
