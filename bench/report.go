package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// print writes the table and the breakdown of hot-swap's save-to-live.
func (r *results) print(w io.Writer, args []string) {
	o := r.o
	cmd := "go run ./bench"
	if len(args) > 0 {
		cmd += " " + strings.Join(args, " ")
	}
	fmt.Fprintf(w, "`%s` · %s %s/%s, %d CPUs · %s, load average %s at the start · %d runs per timed figure (median, min–max)\n\n",
		cmd, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), r.started.Format("2006-01-02 15:04"), r.load, o.n)

	airHead := "air"
	if r.air != nil && r.air.version != "" {
		airHead = "air " + r.air.version
	}
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
	if ok(r.hot) {
		hotLive = r.hot.live.median()
	}
	if ok(r.air) {
		airLive = r.air.live.median()
	}
	floor := r.floorPlugin.median()
	met := "—"
	if hotLive > 0 {
		met = check(float64(hotLive) <= 1.10*float64(floor))
		if airLive > 0 {
			met += " / " + check(hotLive < airLive)
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
	row("save-to-live, one-line logic edit", skipped(r.hot), skipped(r.restart), skipped(r.air),
		"≤ 1.10 × plugin build / below air", met)
	row("bare `go build` of the same edit (floor)", "plugin: "+r.floorPlugin.String(), "engine: "+r.floorEngine.String(),
		"plain app: "+r.floorPlain.String(), "", "")
	ratioCell := func(m *modeResult, f sample) string {
		return cell(m, func(m *modeResult) string { return ratio(m.live.median(), f.median()) })
	}
	row("save-to-live ÷ floor", ratioCell(r.hot, r.floorPlugin), ratioCell(r.restart, r.floorEngine), ratioCell(r.air, r.floorPlain),
		"≤ 1.10 × (hot-swap)", "")
	failed := func(m *modeResult) string {
		return fmt.Sprintf("%d of %d", m.failed, m.sent)
	}
	met = "—"
	if ok(r.hot) {
		met = check(r.hot.failed == 0)
		if ok(r.restart) {
			met += " / " + check(r.restart.failed == 0)
		}
	}
	row(fmt.Sprintf("failed requests, steady client, %d edits", o.edits), cell(r.hot, failed), cell(r.restart, failed), cell(r.air, failed), "0", met)
	gap := func(m *modeResult) string { return ms(m.gap) }
	row("longest gap with no answer", cell(r.hot, gap), cell(r.restart, gap), cell(r.air, gap), "", "")
	state := func(m *modeResult) string {
		if m.resets == 0 {
			return "kept"
		}
		return fmt.Sprintf("reset %d times (visits back to 1)", m.resets)
	}
	missed := func(m *modeResult) string { return fmt.Sprint(m.missed) }
	row("edits not live within 20 s (saved again)", cell(r.hot, missed), cell(r.restart, missed), cell(r.air, missed), "0", "")
	row("state (visits) across reloads", cell(r.hot, state), cell(r.restart, state), cell(r.air, state), "kept", "")

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
	if ok(r.hot) {
		b := r.hot
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

	if ok(r.hot) && len(r.hot.build) > 0 {
		h := r.hot
		fmt.Fprintf(w, "\nWhere hot-swap's save-to-live goes (medians, from hotrun's event times): write → change event %s (debounce) · change → build.start %s · build.start → build.ok %s (stage + go build; the bare plugin build is %s) · build.ok → first new answer %s (load, swap, next poll).\n",
			ms(h.watch.median()), ms(h.queue.median()), ms(h.build.median()), ms(floor), ms(h.after.median()))
		if rest := h.live.median() - h.watch.median(); rest > 0 {
			fmt.Fprintf(w, "Without the wait for a quiet watcher it would be %s, %s the bare plugin build.\n", ms(rest), ratio(rest, floor))
		}
		if r.restart != nil && ok(r.restart) && len(r.restart.build) > 0 {
			x := r.restart
			fmt.Fprintf(w, "The same for -mode restart: %s debounce · %s to build.start · %s build (the bare engine build is %s) · %s from build.ok to the new engine's first answer (restart, state restore, load).\n",
				ms(x.watch.median()), ms(x.queue.median()), ms(x.build.median()), ms(r.floorEngine.median()), ms(x.after.median()))
		}
	}
	if ok(r.air) {
		fmt.Fprintf(w, "\nair restarts a plain executable (bench/testdata/plainapp, the same /hello answer) with `build.delay = 50`; its state resets on every reload.\n")
		if r.air.bindFails > 0 {
			fmt.Fprintf(w, "%d times the app air started exited with `bind: address already in use` (the old app still held the port; air-verse/air#216) and stayed down until the next save.\n", r.air.bindFails)
		}
	}
	for _, m := range []*modeResult{r.hot, r.restart, r.air} {
		if m != nil && m.skipped != "" && m.skipped != noRestart {
			fmt.Fprintf(w, "\n%s\n", m.skipped)
		}
	}
	for _, m := range []struct {
		name string
		r    *modeResult
	}{{"hot-swap", r.hot}, {"-mode restart", r.restart}, {"air", r.air}} {
		if ok(m.r) && len(m.r.errs) > 0 {
			fmt.Fprintf(w, "\nfirst failed requests (%s): %s\n", m.name, strings.Join(m.r.errs, "; "))
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
