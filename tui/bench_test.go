package tui

import (
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hotrun-dev/hotrun/event"
)

// BenchmarkRequestFlood feeds 10 000 requests per iteration, in the batches
// Run would make of a 10 000/s stream (160 per 16 ms frame), through Update
// and View, and reports how many request lines a second the model absorbs.
func BenchmarkRequestFlood(b *testing.B) {
	const perIter, perBatch = 10_000, 160
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
