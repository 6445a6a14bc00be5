package tui

import (
	"reflect"
	"sync"
	"time"
	"unsafe"

	tea "charm.land/bubbletea/v2"
)

// Why the screen paces bubbletea's renderer (#14).
//
// bubbletea v2.1.1 flushes frames from a time.Ticker that runs at its frame
// rate (60/s) for the program's whole life, whether or not anything changed.
// The flush itself is skipped when the frame is unchanged, but the wakeups
// are not: measured on a 2-core VM, a bare Go program with a 60 Hz ticker
// uses 24 CPU ticks in 30 s, and hotrun's screen idled at 39. The fix
// upstream (charmbracelet/bubbletea#1796, #1776: tick only while a frame is
// pending) is not released; until it is, the pacer does the same from
// outside: it stops the program's ticker once no frame has been drawn for
// idleAfter, and starts it again when the next frame is drawn. Frames under
// load are paced by bubbletea as before (the ticker is never reset while it
// runs, so a stream of frames can't postpone the next tick).
//
// Reaching the ticker needs reflection on an unexported field. If a
// bubbletea upgrade renames or retypes it, the pacer finds nothing and does
// nothing (TestPacer fails, so the upgrade notices); remove this file once
// bubbletea stops ticking when idle.
type pacer struct {
	prog  *tea.Program // set before Run; read on bubbletea's loop only
	frame time.Duration

	mu      sync.Mutex   // guards the fields below: frames come on bubbletea's loop, idle on a timer's goroutine
	looked  bool         // ticker was looked for
	ticker  *time.Ticker // bubbletea's frame ticker; nil when not found
	running bool         // ticker runs
	last    time.Time    // when the last frame was drawn
	idle    *time.Timer  // stops the ticker idleAfter the last frame
	closed  bool
}

// idleAfter is how long the ticker runs after the last frame: long enough
// for that frame and the terminal queries issued around it (background
// colour, synchronized output) to be flushed.
const idleAfter = 500 * time.Millisecond

func newPacer(fps int) *pacer {
	return &pacer{frame: time.Second / time.Duration(fps)}
}

// frameDrawn is called from View, which bubbletea calls on its event loop
// after startRenderer has set the ticker: reading the field there is
// ordered after its write.
func (p *pacer) frameDrawn() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if !p.looked {
		p.looked = true
		p.ticker = programTicker(p.prog)
	}
	if p.ticker == nil {
		return
	}
	p.last = time.Now()
	if !p.running {
		p.ticker.Reset(p.frame)
		p.running = true
	}
	if p.idle == nil {
		p.idle = time.AfterFunc(idleAfter, p.stopIfIdle)
	} else {
		p.idle.Reset(idleAfter)
	}
}

func (p *pacer) stopIfIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || time.Since(p.last) < idleAfter {
		return // a newer frame re-armed the timer
	}
	// Stopped even when the pacer thinks it stopped already: bubbletea
	// restarts its ticker by itself after a suspend.
	p.ticker.Stop()
	p.running = false
}

// isRunning reports whether the ticker runs, for tests.
func (p *pacer) isRunning() (found, running bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ticker != nil, p.running
}

// close stops the idle timer once the program has ended.
func (p *pacer) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.idle != nil {
		p.idle.Stop()
	}
}

// programTicker returns the frame ticker of a running bubbletea program, or
// nil when the program holds none by that name and type.
func programTicker(prog *tea.Program) *time.Ticker {
	if prog == nil {
		return nil
	}
	v := reflect.ValueOf(prog).Elem().FieldByName("ticker")
	if !v.IsValid() || v.Type() != reflect.TypeFor[*time.Ticker]() {
		return nil
	}
	return *(**time.Ticker)(unsafe.Pointer(v.UnsafeAddr()))
}
