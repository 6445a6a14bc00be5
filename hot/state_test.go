package hot

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// hall is the documented pattern: a struct whose map the handlers write
// under the struct's own (unexported) mutex, with no MarshalJSON.
type hall struct {
	mu    sync.Mutex
	Rooms map[string]int
}

// TestSnapshotUnderLoad saves the state every 50 ms while 600 concurrent
// requests write it. Run with -race: a snapshot that reads the map without
// the requests quiesced is reported, and without -race may end the
// process with "concurrent map iteration and map write".
func TestSnapshotUnderLoad(t *testing.T) {
	st := &hall{Rooms: map[string]int{}}
	h := New(Config[logic]{State: st, Logger: quiet()})
	h.statePath = filepath.Join(t.TempDir(), "snapshot.json")
	if err := h.load(pluginFile(t, "v1"), 1); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.Handler(func(w http.ResponseWriter, r *http.Request, l logic) {
		st.mu.Lock()
		st.Rooms[r.URL.Query().Get("room")]++
		st.mu.Unlock()
	}))
	defer srv.Close()

	done := make(chan struct{})
	var snaps sync.WaitGroup
	snaps.Add(1)
	go func() {
		defer snaps.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if err := h.snapshot(); err != nil {
				t.Error(err)
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range 600 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				resp, err := http.Get(fmt.Sprintf("%s/?room=r%d", srv.URL, (i+j)%50))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	close(done)
	snaps.Wait()
	if err := h.snapshot(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(h.statePath)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range st.Rooms {
		total += n
	}
	if total != 3000 || !strings.Contains(string(b), `"r0":`) {
		t.Errorf("%d visits counted, snapshot %.80s", total, b)
	}
}

// lockedState is a sync.Locker: the snapshot takes its lock.
type lockedState struct {
	sync.Mutex
	N int
}

// failing fails to marshal, and panics when restored.
type failing struct{ N int }

func (failing) MarshalJSON() ([]byte, error) { return nil, errors.New("disk of the mind is full") }
func (*failing) UnmarshalJSON([]byte) error  { panic("restore boom") }

func TestSnapshotErrorsAndRestorePanic(t *testing.T) {
	dir := t.TempDir()
	h := New(Config[logic]{State: &failing{}, Logger: quiet()})
	h.statePath = filepath.Join(dir, "snapshot.json")
	for range 2 {
		if err := h.snapshot(); err == nil || !strings.Contains(err.Error(), "disk of the mind") {
			t.Errorf("a failing save: %v, want its error every time", err)
		}
	}

	os.WriteFile(h.statePath, []byte(`{"N":1}`), 0o600)
	var got []protocol.Event
	h.out = nil
	h.cfg.Logger = quiet()
	restoreWith := func() {
		if err := h.restore(h.statePath, false); err != nil {
			t.Errorf("a lenient restore returned %v", err)
		}
	}
	restoreWith()
	if kept, _ := filepath.Glob(h.statePath + ".rejected-*"); len(kept) != 1 {
		t.Errorf("the snapshot whose restore panicked was not set aside: %v", kept)
	}
	if _, err := os.Stat(h.statePath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the snapshot is still there to trip the next engine: %v", err)
	}
	restoreWith() // nothing left to restore: starts fresh, no panic
	_ = got

	ls := &lockedState{N: 3}
	h2 := New(Config[logic]{State: ls, Logger: quiet()})
	h2.statePath = filepath.Join(dir, "locked.json")
	ls.Lock()
	saved := make(chan error)
	go func() { saved <- h2.snapshot() }()
	select {
	case <-saved:
		t.Fatal("the snapshot did not wait for the state's own lock")
	case <-time.After(100 * time.Millisecond):
	}
	ls.Unlock()
	if err := <-saved; err != nil {
		t.Fatal(err)
	}
}

// TestRun runs units of work through a swap and a panic.
func TestRun(t *testing.T) {
	h := New(Config[logic]{Logger: quiet()})
	if err := h.Run("tick", func(logic) error { return nil }); err == nil {
		t.Error("Run before any version: no error")
	}
	if err := h.load(pluginFile(t, "v1"), 1); err != nil {
		t.Fatal(err)
	}
	var said string
	if err := h.Run("tick", func(l logic) error { said = l("x"); return nil }); err != nil || said == "" {
		t.Errorf("tick on v1: %v, %q", err, said)
	}
	if err := h.load(pluginFile(t, "panics"), 2); err != nil {
		t.Fatal(err)
	}
	err := h.Run("tick", func(l logic) error { said = l("bob"); return nil })
	if err == nil || !strings.Contains(err.Error(), "handler boom") {
		t.Errorf("a panicking unit: %v", err)
	}
	if err := h.activate(1); err != nil {
		t.Fatal(err)
	}
	if err := h.Run("tick", func(l logic) error { said = l("y"); return nil }); err != nil {
		t.Errorf("after the panic, back on v1: %v", err)
	}
}

// TestSnapshotsInOrder saves from many goroutines at once, as hotrun's
// commands arrive (a periodic save beside a stop's): once every save has
// returned, the file holds the state as it is, never an older save that
// finished writing last.
func TestSnapshotsInOrder(t *testing.T) {
	st := &lockedState{}
	h := New(Config[logic]{State: st, Logger: quiet()})
	h.statePath = filepath.Join(t.TempDir(), "snapshot.json")
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			for range 4 {
				st.Lock()
				st.N++
				st.Unlock()
				if err := h.snapshot(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	b, err := os.ReadFile(h.statePath)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"N":200`; !strings.Contains(string(b), want) {
		t.Errorf("snapshot %s after every save returned, want %s", b, want)
	}
}
