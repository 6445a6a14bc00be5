package tui

import (
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hotrun-dev/hotrun/event"
)

// BenchmarkRequestFlood feeds 10 000 requests per iteration, in the batches
// Run would make of a 10 000/s stream (one a frame: 500 at 20 frames a
// second), through Update and View, and reports how many request lines a
// second the model absorbs.
func BenchmarkRequestFlood(b *testing.B) {
	const perIter, perBatch = 10_000, 10_000 / fps
	recs := make([]event.Record, perIter)
	for i := range recs {
		recs[i] = event.Record{
			Time:  t0.Add(time.Duration(i) * 100 * time.Microsecond),
			Event: event.Request{Method: "GET", Path: "/api/items/42", Status: 200 + i%4*100, Duration: ms(1.5), Version: 3},
		}
	}
	var m tea.Model = NewModel(Options{Project: "bench", Now: fixedNow})
	m, _ = m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m, _ = m.Update(RecordsMsg(session()))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for i := 0; i < perIter; i += perBatch {
			// Each batch is a fresh slice, as the batcher hands it over.
			batch := make(RecordsMsg, min(perBatch, perIter-i))
			copy(batch, recs[i:])
			m, _ = m.Update(batch)
			_ = m.View()
		}
	}
	b.ReportMetric(float64(b.N*perIter)/time.Since(start).Seconds(), "lines/s")
}

// BenchmarkLongSession draws the screen after a session of 100 and of 1000
// saves, each fed to the model as the supervisor publishes it (change,
// build, load, the version list, memory, a save of the state, requests):
// a frame must cost the same at the 1000th save as at the 100th. Each
// iteration is one frame after a request: an Update and a View.
func BenchmarkLongSession(b *testing.B) {
	for _, saves := range []int{100, 1000} {
		b.Run(fmt.Sprintf("saves=%d", saves), func(b *testing.B) {
			var m tea.Model = NewModel(Options{Project: "bench", Now: fixedNow})
			m, _ = m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
			for n := 1; n <= saves; n++ {
				m, _ = m.Update(RecordsMsg(saveRecords(n)))
				_ = m.View()
			}
			req := RecordsMsg{at(float64(saves)+0.5, event.Request{Method: "GET", Path: "/hello", Status: 200, Duration: ms(0.2), Version: saves})}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				m, _ = m.Update(req)
				_ = m.View()
			}
		})
	}
}

// saveRecords is what save n of a long session publishes, with the version
// list as the supervisor keeps it: the engine (recycled every 20 versions)
// holds up to 20, and the newest 50 ended versions stay listed.
func saveRecords(n int) RecordsMsg {
	sec := float64(n)
	file := event.FileChange{Path: "logic/main.go", Added: 1, Removed: 1}
	list := event.Versions{DiskBytes: 46 << 20}
	for v := n; v >= 1 && len(list.Versions) < 70; v-- {
		state := event.VersionGone
		switch {
		case v == n:
			state = event.VersionLive
		case v > n-n%20:
			state = event.VersionLoaded
		case v > n-10:
			state = event.VersionBuilt
		}
		list.Versions = append(list.Versions, event.VersionInfo{Version: v, State: state, Built: t0.Add(time.Duration(v) * time.Second), BuildDuration: ms(600), LoadDuration: ms(10), Files: []event.FileChange{file}})
	}
	list.Forgotten = max(0, n-len(list.Versions))
	var loaded []int
	for v := max(1, n-n%20); v <= n; v++ {
		loaded = append(loaded, v)
	}
	recs := RecordsMsg{
		at(sec, event.Change{Files: []string{"logic/main.go"}, Kind: event.KindLogic, Stats: []event.FileChange{file}}),
		at(sec+0.01, event.BuildStart{Version: n, Target: event.TargetLogic}),
		at(sec+0.6, event.BuildOK{Version: n, Target: event.TargetLogic, Duration: ms(600), Route: "fast", Linker: "mold"}),
		at(sec+0.61, event.LoadOK{Version: n, Duration: ms(10)}),
		at(sec+0.61, list),
		at(sec+0.61, serving(7, n, sec+0.61, loaded...)),
		at(sec+0.62, event.Memory{PID: 7, RSSBytes: int64(16+n%20) << 20, VersionsLoaded: len(loaded)}),
		at(sec+0.62, event.StateSaved{Bytes: 80, Duration: ms(4)}),
	}
	for i := range 10 {
		recs = append(recs, at(sec+0.7+float64(i)*0.01, event.Request{Method: "GET", Path: "/hello?name=test", Status: 200, Duration: ms(0.2), Version: n}))
	}
	return recs
}
