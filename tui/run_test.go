package tui

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// syncBuffer is an output that the test can read while bubbletea writes.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// blockingReader is a terminal with nobody typing.
type blockingReader struct{ done chan struct{} }

func (r blockingReader) Read([]byte) (int, error) { <-r.done; return 0, io.EOF }

// runAsync runs Run and returns a channel with its result.
func runAsync(ctx context.Context, opts Options) <-chan error {
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, opts) }()
	return errc
}

func wait(t *testing.T, errc <-chan error) {
	t.Helper()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestRun(t *testing.T) {
	t.Run("stream closed", func(t *testing.T) {
		t.Parallel()
		records := make(chan event.Record, 100)
		for _, r := range session() {
			records <- r
		}
		close(records)
		in := blockingReader{make(chan struct{})}
		defer close(in.done)
		var out syncBuffer
		wait(t, runAsync(context.Background(), Options{Project: "p", Records: records, Input: in, Output: &out, Now: fixedNow}))
		// The last frame shows what the stream carried.
		if s := out.String(); !strings.Contains(s, "pid 4242") || !strings.Contains(s, "/login#10") {
			t.Errorf("output lacks the records:\n%q", s)
		}
	})
	t.Run("context done", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		records := make(chan event.Record) // never closed
		in := blockingReader{make(chan struct{})}
		defer close(in.done)
		errc := runAsync(ctx, Options{Records: records, Input: in, Output: io.Discard})
		time.Sleep(50 * time.Millisecond)
		cancel()
		wait(t, errc)
	})
	t.Run("q typed", func(t *testing.T) {
		t.Parallel()
		records := make(chan event.Record)
		wait(t, runAsync(context.Background(), Options{Records: records, Input: strings.NewReader("q"), Output: io.Discard}))
	})
}

func TestBatch(t *testing.T) {
	const n, max = 20_000, 512
	in := make(chan event.Record, 64)
	out := make(chan []event.Record)
	go batch(context.Background(), in, out, time.Millisecond, max)
	go func() {
		for i := range n {
			in <- event.Record{Event: event.Request{Status: i}}
		}
		close(in)
	}()
	next, batches := 0, 0
	for b := range out {
		batches++
		if len(b) == 0 || len(b) > max {
			t.Fatalf("batch of %d records, want 1..%d", len(b), max)
		}
		for _, r := range b {
			if got := r.Event.(event.Request).Status; got != next {
				t.Fatalf("record %d arrived as %d", got, next)
			}
			next++
		}
	}
	if next != n {
		t.Errorf("%d records delivered, want %d", next, n)
	}
	t.Logf("%d records in %d batches", n, batches)
}

// TestBatchBackpressure checks that the batcher stops reading when the model
// does not take its batches, rather than buffering without bound.
func TestBatchBackpressure(t *testing.T) {
	const max = 8
	in := make(chan event.Record)
	out := make(chan []event.Record)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); batch(ctx, in, out, time.Millisecond, max) }()
	for range max {
		in <- event.Record{Event: event.Request{}}
	}
	select {
	case in <- event.Record{Event: event.Request{}}:
		t.Fatal("batcher read past a full batch nobody took")
	case <-time.After(50 * time.Millisecond):
	}
	if b := <-out; len(b) != max {
		t.Errorf("batch of %d, want %d", len(b), max)
	}
	cancel()
	<-done
	if _, ok := <-out; ok {
		t.Error("out not closed after the context ended")
	}
}
