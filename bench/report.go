package main

import (
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/hotrun-dev/hotrun/builder"
)

// print writes the table and the breakdown of hot-swap's save-to-live.
// printHead writes the line that says how the figures were taken.
func (r *results) printHead(w io.Writer, args []string) {
	cmd := "go run ./bench"
	if len(args) > 0 {
		cmd += " " + strings.Join(args, " ")
	}
	fmt.Fprintf(w, "`%s` · %s %s/%s, %d CPUs · %s, load average %s at the start · %d runs per timed figure (median, min–max)\n\n",
		cmd, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), r.started.Format("2006-01-02 15:04"), r.load, r.o.n)
}

func (r *results) print(w io.Writer, args []string) {
	r.printHead(w, args)

	for i, pr := range r.projs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		r.projTable(w, pr, i == 0)
	}
	for _, pr := range r.projs {
		pr.breakdown(w)
	}
	r.builderTable(w)
	if r.web != nil {
		r.web.print(w)
	}
	if r.faults != nil {
		r.faults.print(w)
	}
	for _, pr := range r.projs {
		if ok(pr.air) {
			fmt.Fprintf(w, "\nair restarts %s, %s's plain twin, with `build.delay = 50`; its state resets on every reload.\n", pr.p.plain, pr.p.name)
			if pr.air.bindFails > 0 {
				fmt.Fprintf(w, "%d times the app air started exited with `bind: address already in use` (the old app still held the port; air-verse/air#216) and stayed down until the next save.\n", pr.air.bindFails)
			}
		}
		for _, m := range []*modeResult{pr.hot, pr.restart, pr.air} {
			if m != nil && m.skipped != "" && m.skipped != noRestart {
				fmt.Fprintf(w, "\n%s: %s\n", pr.p.name, m.skipped)
			}
		}
		for _, m := range []struct {
			name string
			r    *modeResult
		}{{"hot-swap", pr.hot}, {"-mode restart", pr.restart}, {"air", pr.air}} {
			if ok(m.r) && len(m.r.errs) > 0 {
				fmt.Fprintf(w, "\nfirst failed requests (%s, %s): %s\n", pr.p.name, m.name, strings.Join(m.r.errs, "; "))
			}
		}
	}
}

// projTable writes one project's table; the example's (shared) carries the
// figures measured on it alone: memory, the watcher burst, the TUI.
func (r *results) projTable(w io.Writer, pr *projResult, shared bool) {
	o := r.o
	airHead := "air"
	if pr.air != nil && pr.air.version != "" {
		airHead = "air " + pr.air.version
	}
	fmt.Fprintf(w, "**%s** (%s)\n\n", pr.p.name, pr.p.src)
	fmt.Fprintf(w, "| figure | hotrun hot-swap | hotrun -mode restart | %s | target | met |\n", airHead)
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	row := func(fig, hot, rst, air, target, met string) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", fig, hot, rst, air, target, met)
	}
	cell := func(m *modeResult, f func(*modeResult) string) string {
		switch {
		case m == nil:
			return "not measured"
		case m.skipped != "":
			return "n/a"
		}
		return f(m)
	}
	live := func(m *modeResult) string { return m.live.String() }

	hotLive, airLive := time.Duration(0), time.Duration(0)
	if ok(pr.hot) {
		hotLive = pr.hot.live.median()
	}
	if ok(pr.air) {
		airLive = pr.air.live.median()
	}
	floor := pr.floorPlugin.median()
	met := "—"
	if hotLive > 0 {
		met = check(float64(hotLive) <= 0.85*float64(floor))
		if airLive > 0 {
			met += " / " + check(float64(hotLive) <= 0.85*float64(airLive))
		}
	}
	skipped := func(m *modeResult) string {
		if m != nil && m.skipped != "" {
			if m.skipped == noRestart {
				return m.skipped
			}
			return "n/a (see below)"
		}
		return cell(m, live)
	}
	row("save-to-live, one-line logic edit", skipped(pr.hot), skipped(pr.restart), skipped(pr.air),
		"≤ 0.85 × plugin build / ≤ 0.85 × air", met)
	row("bare `go build` of the same edit (floor, interleaved, same client)", "plugin: "+pr.floorPlugin.String(), "engine: "+pr.floorEngine.String(),
		"plain app: "+pr.floorPlain.String(), "", "")
	ratioCell := func(m *modeResult, f sample) string {
		return cell(m, func(m *modeResult) string { return ratio(m.live.median(), f.median()) })
	}
	row("save-to-live ÷ floor", ratioCell(pr.hot, pr.floorPlugin), ratioCell(pr.restart, pr.floorEngine), ratioCell(pr.air, pr.floorPlain),
		"≤ 0.85 × (hot-swap)", "")
	if hotLive > 0 && airLive > 0 {
		row("hot-swap save-to-live ÷ air's", ratio(hotLive, airLive), "", "", "≤ 0.85 ×", check(float64(hotLive) <= 0.85*float64(airLive)))
	}
	failed := func(m *modeResult) string {
		return fmt.Sprintf("%d of %d", m.failed, m.sent)
	}
	met = "—"
	if ok(pr.hot) {
		met = check(pr.hot.failed == 0)
		if ok(pr.restart) {
			met += " / " + check(pr.restart.failed == 0)
		}
	}
	row(fmt.Sprintf("failed requests, steady client, %d edits", o.edits), cell(pr.hot, failed), cell(pr.restart, failed), cell(pr.air, failed), "0", met)
	gap := func(m *modeResult) string { return ms(m.gap) }
	row("longest gap with no answer", cell(pr.hot, gap), cell(pr.restart, gap), cell(pr.air, gap), "", "")
	state := func(m *modeResult) string {
		if m.resets == 0 {
			return "kept"
		}
		return fmt.Sprintf("reset %d times (visits back to 1)", m.resets)
	}
	missed := func(m *modeResult) string { return fmt.Sprint(m.missed) }
	row("edits not live within 20 s (saved again)", cell(pr.hot, missed), cell(pr.restart, missed), cell(pr.air, missed), "0", "")
	row("state (visits) across reloads", cell(pr.hot, state), cell(pr.restart, state), cell(pr.air, state), "kept", "")
	if !shared {
		return
	}
	if r.mem != nil {
		var parts []string
		for i, n := range r.mem.at {
			parts = append(parts, fmt.Sprintf("%d: %s", n, mb(r.mem.rss[i])))
		}
		row("engine RSS after N versions loaded", strings.Join(parts, " · "), "", "", "", "")
	}
	if r.memRecycle != nil {
		var parts []string
		for i, n := range r.memRecycle.at {
			parts = append(parts, fmt.Sprintf("%d: %s", n, mb(r.memRecycle.rss[i])))
		}
		row(fmt.Sprintf("… with recycling (`-max-versions %d`)", r.memRecycle.maxVersions),
			strings.Join(parts, " · ")+fmt.Sprintf(" (%d restarts)", r.memRecycle.restarts), "", "", "", "")
	}
	if ok(pr.hot) {
		b := pr.hot
		row(fmt.Sprintf("builds started by one burst of %d file writes", o.burst),
			fmt.Sprintf("%d (%d canceled; %d change events; burst written in %s)", b.burstStarts, b.burstCancels, b.burstChanges, ms(b.burstWrite)),
			"", "", "1 (not canceled)", check(b.burstStarts-b.burstCancels == 1))
	}
	if r.tui != nil {
		row("TUI: request lines/s absorbed (BenchmarkRequestFlood)", fmt.Sprintf("%.0f", r.tui.benchLines), "", "", "≥ 10 000", check(r.tui.benchLines >= 10_000))
		if r.tui.live != "" {
			row("TUI in tmux at ~10 000 req/s: hotrun CPU", r.tui.live, "", "", "", "")
		} else {
			lag := "no request line on screen"
			if r.tui.lag >= 0 {
				lag = "screen " + ms(r.tui.lag) + " behind at the end"
			}
			// Keeping up: the newest line on screen is under a second old
			// when the load ends, and hotrun has nothing left to catch up.
			row("real TUI in tmux, load generator asking 10 000 req/s for 5 s",
				fmt.Sprintf("%.0f req/s served (lines/s shown); hotrun %.0f %% of a core, %.0f %% in the second after; %s; hotrun RSS %s → %s",
					r.tui.rate, r.tui.cpu, r.tui.after, lag, mb(r.tui.rssStart), mb(r.tui.rssEnd)),
				"", "", "keeps up", check(r.tui.rate >= 9000 && r.tui.lag >= 0 && r.tui.lag < time.Second && r.tui.after < 20))
		}
	}
}

// breakdown writes where one project's save-to-live goes, from hotrun's
// event times.
func (pr *projResult) breakdown(w io.Writer) {
	if ok(pr.hot) && len(pr.hot.build) > 0 {
		h := pr.hot
		fmt.Fprintf(w, "\n**%s**, where hot-swap's save-to-live (%s) goes, medians from hotrun's event times: watcher (write → change event, debounce) %s · change → build.start %s · build (build.start → build.ok; %s) %s, the bare plugin build %s · load (build.ok → load.ok) %s · first answer (load.ok → the poll that sees it) %s.\n",
			pr.p.name, ms(h.live.median()), ms(h.watch.median()), ms(h.queue.median()), counts(h.routes, h.linkers), ms(h.build.median()), ms(pr.floorPlugin.median()), ms(h.load.median()), ms(h.answer.median()))
		if h.stages > 0 {
			fmt.Fprintf(w, "Plugin builds of the session: %d, of which the fast path linked %d (the first, after the engine, goes through the go command and learns the build).\n", h.stages, h.fastStages)
		}
	}
	if ok(pr.restart) && len(pr.restart.build) > 0 {
		x := pr.restart
		fmt.Fprintf(w, "The same for -mode restart: %s debounce · %s to build.start · %s build (the bare engine build is %s) · %s from build.ok to the new engine's first answer (restart, state restore, load).\n",
			ms(x.watch.median()), ms(x.queue.median()), ms(x.build.median()), ms(pr.floorEngine.median()), ms(x.after.median()))
	}
}

// counts is "route fast ×9, go build ×1; linker mold ×10" from build.ok
// events ("?" where hotrun's events don't say).
func counts(routes, linkers map[string]int) string {
	f := func(m map[string]int) string {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
		}
		return strings.Join(parts, ", ")
	}
	return "route " + f(routes) + "; linker " + f(linkers)
}

// builderTable writes the builder-alone breakdown of every project.
func (r *results) builderTable(w io.Writer) {
	fmt.Fprintf(w, "\nThe builder alone, per phase (medians; the same edit, interleaved with the bare `go build -buildmode=plugin -ldflags='-s -w'`, default linker, no client):\n\n")
	fmt.Fprintln(w, "| project | builder | stage | go command | compile | link | of it external link | whole build | bare plugin build | ÷ bare |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, pr := range r.projs {
		d := pr.direct
		if d == nil {
			continue
		}
		for _, rs := range [][]builder.Result{d.fast, d.goBuild} {
			if len(rs) == 0 {
				continue
			}
			col := func(f func(builder.Result) time.Duration) string {
				s := phase(rs, f)
				if s.median() == 0 {
					return "—"
				}
				return ms(s.median())
			}
			whole := phase(rs, func(r builder.Result) time.Duration { return r.Duration })
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", pr.p.name, routes(rs),
				col(func(r builder.Result) time.Duration { return r.Phases.Stage }),
				col(func(r builder.Result) time.Duration { return r.Phases.GoCommand }),
				col(func(r builder.Result) time.Duration { return r.Phases.Compile }),
				col(func(r builder.Result) time.Duration { return r.Phases.Link }),
				col(func(r builder.Result) time.Duration { return r.Phases.ExternalLink }),
				whole.String(), d.floor.String(), ratio(whole.median(), d.floor.median()))
		}
	}
}

func ok(m *modeResult) bool { return m != nil && m.skipped == "" }

func check(b bool) string {
	if b {
		return "✓"
	}
	return "✗"
}
