package tea

// This file is not part of bubbletea v2.1.1: it tests the renderer patch
// described in PATCHED.md.

import (
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"
)

// flushSpy counts the renderer's flushes (each one is a wakeup of the
// renderer goroutine) and remembers the content of the last view drawn.
type flushSpy struct {
	*cursedRenderer

	mu      sync.Mutex // guards flushes and drawn
	flushes int
	drawn   string
}

func (s *flushSpy) flush(closing bool) error {
	err := s.cursedRenderer.flush(closing)
	s.cursedRenderer.mu.Lock()
	var drawn string
	if lv := s.cursedRenderer.lastView; lv != nil {
		drawn = lv.Content
	}
	s.cursedRenderer.mu.Unlock()

	s.mu.Lock()
	s.flushes++
	s.drawn = drawn
	s.mu.Unlock()
	return err
}

func (s *flushSpy) state() (flushes int, drawn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.flushes, s.drawn
}

// waitDrawn waits until the renderer has drawn want and says how long that
// took.
func (s *flushSpy) waitDrawn(t *testing.T, want string) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		if _, drawn := s.state(); drawn == want {
			return time.Since(start)
		}
		time.Sleep(time.Millisecond)
	}
	_, drawn := s.state()
	t.Fatalf("renderer never drew %q; last drawn: %q", want, drawn)
	return 0
}

// assertIdle waits for the tick that stops the ticker (it comes one frame
// after the last draw) and then checks that the renderer does not flush for
// a few frames. v2.1.1 flushes on every tick, fps times a second.
func (s *flushSpy) assertIdle(t *testing.T, frame time.Duration, after string) {
	t.Helper()
	time.Sleep(2 * frame)
	before, _ := s.state()
	time.Sleep(4 * frame)
	if n, _ := s.state(); n != before {
		t.Errorf("%s: idle renderer flushed %d times in %v; want none", after, n-before, 4*frame)
	}
}

type setViewMsg int

// counterModel shows the last number it was sent.
type counterModel struct{ n int }

func (m *counterModel) Init() Cmd { return nil }

func (m *counterModel) Update(msg Msg) (Model, Cmd) {
	if n, ok := msg.(setViewMsg); ok {
		m.n = int(n)
	}
	return m, nil
}

func (m *counterModel) View() View { return NewView(fmt.Sprintf("view %d", m.n)) }

// TestRendererIdle checks that the renderer does not wake while nothing
// changes, that the first change after an idle spell is drawn at once rather
// than on the next tick, and that WithFPS still limits a burst of changes.
func TestRendererIdle(t *testing.T) {
	t.Parallel()
	const fps = 4 // slow frames, so "at once" and "on the next tick" are far apart
	frame := time.Second / fps

	spy := &flushSpy{cursedRenderer: newCursedRenderer(io.Discard, []string{"TERM=xterm-256color"}, 80, 24)}
	spy.setNoInput(true)
	p := NewProgram(&counterModel{},
		WithFPS(fps),
		WithWindowSize(80, 24),
		WithColorProfile(colorprofile.ANSI256),
		WithEnvironment([]string{"TERM=xterm-256color"}),
		WithInput(nil),
		WithOutput(io.Discard),
	)
	p.renderer = spy
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	defer func() {
		p.Quit()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	spy.waitDrawn(t, "view 0") // the initial frame, on the first tick
	spy.assertIdle(t, frame, "after the initial frame")

	// The first change after idle is drawn at once, not on the next tick.
	p.Send(setViewMsg(1))
	if took := spy.waitDrawn(t, "view 1"); took > frame/2 {
		t.Errorf("first change after idle drawn after %v; want well under a frame (%v)", took, frame)
	}

	// A burst right after it is coalesced: the ticker is running again,
	// and WithFPS is still the ceiling.
	before, _ := spy.state()
	for n := 2; n <= 6; n++ {
		p.Send(setViewMsg(n))
	}
	spy.waitDrawn(t, "view 6")
	if after, _ := spy.state(); after-before > 2 {
		t.Errorf("a burst of 5 changes took %d flushes; want at most 2", after-before)
	}

	spy.assertIdle(t, frame, "after the burst")

	// Giving the terminal back and taking it again (as Exec does) repaints
	// the screen, then sleeps again.
	if err := p.ReleaseTerminal(); err != nil {
		t.Fatalf("ReleaseTerminal: %v", err)
	}
	before, _ = spy.state()
	if err := p.RestoreTerminal(); err != nil {
		t.Fatalf("RestoreTerminal: %v", err)
	}
	time.Sleep(2 * frame)
	if after, _ := spy.state(); after == before {
		t.Errorf("no repaint within %v of RestoreTerminal", 2*frame)
	}
	spy.assertIdle(t, frame, "after RestoreTerminal")
}
