package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"

	"github.com/hotrun-dev/hotrun/event"
)

// Controller is what the screen's keys ask of the rest of hotrun. Each call
// but Diff returns at once: the work happens elsewhere and shows up later as
// events.
type Controller interface {
	Rebuild()       // r: build the logic now
	Restart()       // R: restart the engine
	Rollback()      // b: switch to the previous loaded version
	Forward()       // f: switch forward again
	Activate(n int) // l in the version list: make version n, loaded or built, live
	// Diff returns the unified diff of the logic tree from version from to
	// version to. Diffing a large tree takes a while: the screen calls it
	// off its loop.
	Diff(from, to int) (string, error)
}

// Options configure the screen.
type Options struct {
	Project  string              // shown in the header (e.g. module path or dir name)
	Records  <-chan event.Record // the stream; closed when hotrun is shutting down
	Control  Controller          // nil: the keys r, R, b and f do nothing
	Input    io.Reader           // nil: os.Stdin
	Output   io.Writer           // nil: os.Stdout
	LogLines int                 // request-log ring size; 0 means 5000
	// Big is the presenter layout: the live version, the probes' answers
	// and the last change's diff get the screen; the request log a line.
	Big bool

	// Now is the clock for "live 12s ago" and build times; nil means
	// time.Now. Tests set it to get the same screen on every run.
	Now func() time.Time

	// Lab is the guide of a lab (hotrun lab), whose pane the screen shows
	// from its events; nil: no lab, and p pauses a pane as usual.
	Lab LabControl

	// CrashDir is where the screen writes the log of a panic it recovered
	// (crash-<time>.log, see [WriteCrash]): the project's .hotrun. "" writes
	// none; the timeline still tells.
	CrashDir string
}

// fps is the frame rate asked of bubbletea. Released bubbletea wakes its
// renderer fps times a second for the program's whole life, screen changed
// or not (see doc.go), so the rate is what the screen needs and no more:
// the build spinner turns 12 times a second (spinner.MiniDot), and a key
// answered within a 50 ms frame feels immediate; idle, each frame a second
// less is a wake-up less (doc.go has the figures).
const fps = 20

// Batching: the batcher hands the model what it has gathered at most once a
// frame, or as soon as maxBatch records are waiting and the model is ready:
// bubbletea calls View after every message, and a View the next frame
// replaces before it is drawn is wasted work. While a full batch waits for
// the model the batcher stops reading, so memory stays bounded and the
// stream drops requests instead.
const (
	batchInterval = time.Second / fps
	maxBatch      = 4096
)

// Run shows the screen until the user quits (q / ctrl+c), ctx is done, or
// Records is closed. It returns nil on a normal quit, including when ctx is
// done: the caller asked for it. It draws only through bubbletea, on Output.
// When the screen keeps panicking it gives up: it restores the terminal and
// returns an error that wraps [ErrCrashed], leaving the rest of Records to
// the caller (the records it had taken and not yet drawn, a batch at most,
// are gone).
func Run(ctx context.Context, opts Options) error {
	in, out := opts.Input, opts.Output
	if in == nil {
		in = os.Stdin
	}
	if out == nil {
		out = os.Stdout
	}

	// batches carries records from the batcher goroutine to the model's
	// re-armed command; the batcher closes it when it stops.
	batches := make(chan []event.Record)
	bctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		batch(bctx, opts.Records, batches, batchInterval, maxBatch)
	}()
	// The batcher is owned here: it ends before Run returns.
	defer wg.Wait()
	defer stop()

	m := NewModel(opts)
	m.batches = batches
	// The screen's own panics: View wakes the loop through wake to have the
	// part it could not draw reset; done ends the command waiting on it.
	g := m.guard
	g.wake, g.done = make(chan struct{}, 1), make(chan struct{})
	defer close(g.done)
	// No WithContext: when ctx is done the batcher closes batches and the
	// model quits the ordinary way, so the terminal is always restored.
	popts := []tea.ProgramOption{tea.WithInput(in), tea.WithOutput(out), tea.WithFPS(fps)}
	if f, ok := out.(interface{ Fd() uintptr }); !ok || !term.IsTerminal(f.Fd()) {
		// No terminal to ask for its size (a test, a pipe): draw 80×24
		// rather than nothing.
		popts = append(popts, tea.WithWindowSize(80, 24))
	}
	p := tea.NewProgram(m, popts...)
	_, err := p.Run()
	switch {
	case g.gaveUp:
		return fmt.Errorf("%w (the last crash log: %s)", ErrCrashed, g.last)
	case errors.Is(err, tea.ErrProgramPanic):
		// A panic the model could not recover (in bubbletea itself, say):
		// bubbletea restored the terminal and wrote the stack to stderr.
		// The caller can still show the stream.
		return fmt.Errorf("%w: bubbletea caught a panic (its stack is on stderr)", ErrCrashed)
	case err != nil && !errors.Is(err, tea.ErrInterrupted):
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}

// batch reads records from in and sends them to out in batches, until in is
// closed (after delivering what it holds) or ctx is done; then it closes out.
//
// A batch goes out when the model is ready for it and either interval has
// passed since its first record or it holds max records. While a full batch
// waits, batch stops reading in, so a slow screen pushes back on the stream
// (which drops requests) rather than growing memory here.
func batch(ctx context.Context, in <-chan event.Record, out chan<- []event.Record, interval time.Duration, max int) {
	defer close(out)
	timer := time.NewTimer(interval)
	timer.Stop()
	defer timer.Stop()
	var (
		buf   []event.Record
		armed bool // timer runs for the batch in buf
		due   bool // buf may go out now
	)
	for {
		recv, send := in, chan<- []event.Record(nil)
		if len(buf) >= max {
			recv, due = nil, true
		}
		if due && len(buf) > 0 {
			send = out
		}
		select {
		case r, ok := <-recv:
			if !ok {
				if len(buf) > 0 {
					select {
					case out <- buf:
					case <-ctx.Done():
					}
				}
				return
			}
			buf = append(buf, r)
			if !armed && !due {
				timer.Reset(interval)
				armed = true
			}
		case <-timer.C:
			armed, due = false, true
		case send <- buf:
			// The model owns the slice now.
			buf, due = make([]event.Record, 0, cap(buf)), false
		case <-ctx.Done():
			return
		}
	}
}
