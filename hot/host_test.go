package hot

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/hot/protocol"
)

type logic = func(string) string

// plugins builds testdata/plugins/* once per test binary, into one
// directory, with the flags this test binary was built with.
var plugins = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "hotrun-host-test-")
	if err != nil {
		return "", err
	}
	names, err := os.ReadDir("testdata/plugins")
	if err != nil {
		return "", err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := []string{"build", "-buildmode=plugin", "-o", filepath.Join(dir, n.Name()+".so")}
			if raceEnabled {
				args = append(args, "-race")
			}
			cmd := exec.Command("go", append(args, "./testdata/plugins/"+n.Name())...)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("build %s: %v\n%s", n.Name(), err, out)
			}
		}()
	}
	wg.Wait()
	return dir, errors.Join(errs...)
})

func pluginFile(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds plugins: skipped with -short")
	}
	dir, err := plugins()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name+".so")
}

func quiet() *log.Logger { return log.New(io.Discard, "", 0) }

// Each test opens its plugins under its own version numbers, but a plugin
// file can be opened once per process: tests that open the same file share
// the one Host below, in order, in TestHost.
func TestHost(t *testing.T) {
	var swaps []string
	h := New(Config[logic]{
		Logger: quiet(),
		OnSwap: func(prev, next logic) {
			p := "none"
			if prev != nil {
				p = prev("x")
			}
			swaps = append(swaps, p+" -> "+next("x"))
		},
	})
	srv := httptest.NewServer(h.Handler(func(w http.ResponseWriter, r *http.Request, l logic) {
		fmt.Fprint(w, l(r.URL.Query().Get("name")))
	}))
	defer srv.Close()
	get := func() (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/?name=ann")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	if code, _ := get(); code != http.StatusServiceUnavailable {
		t.Errorf("before any load: status %d, want 503", code)
	}
	if err := h.load(pluginFile(t, "v1"), 1); err != nil {
		t.Fatal(err)
	}
	if code, body := get(); code != 200 || body != "v1 hello ann" {
		t.Errorf("v1: %d %q", code, body)
	}
	if err := h.load(pluginFile(t, "v2"), 2); err != nil {
		t.Fatal(err)
	}
	if _, body := get(); body != "v2 hello ann" {
		t.Errorf("v2: %q", body)
	}

	rejects := []struct {
		plugin string
		want   error
	}{
		{"nosymbol", errNoSymbol},
		{"wrongtype", errWrongType},
		{"initpanic", errInitPanic},
	}
	for i, tt := range rejects {
		err := h.load(pluginFile(t, tt.plugin), 10+i)
		if !errors.Is(err, tt.want) {
			t.Errorf("load %s: err = %v, want %v", tt.plugin, err, tt.want)
		}
		if explain(err) == "" {
			t.Errorf("load %s: no plain explanation for %v", tt.plugin, err)
		}
		if _, body := get(); body != "v2 hello ann" {
			t.Errorf("after rejecting %s, served %q; want v2 still", tt.plugin, body)
		}
	}
	if err := h.load(pluginFile(t, "v1"), 2); !errors.Is(err, errLoadedTwice) {
		t.Errorf("loading version 2 twice: %v", err)
	}

	if err := h.activate(1); err != nil {
		t.Fatal(err)
	}
	if _, body := get(); body != "v1 hello ann" {
		t.Errorf("after rollback: %q", body)
	}
	if err := h.activate(2); err != nil {
		t.Fatal(err)
	}
	if err := h.activate(99); err == nil {
		t.Error("activating a version never loaded succeeded")
	}
	want := []string{"none -> v1 hello x", "v1 hello x -> v2 hello x", "v2 hello x -> v1 hello x", "v1 hello x -> v2 hello x"}
	if fmt.Sprint(swaps) != fmt.Sprint(want) {
		t.Errorf("OnSwap calls = %q, want %q", swaps, want)
	}
}

func TestHandlerPanic(t *testing.T) {
	var mu sync.Mutex
	var got []protocol.Event
	h := New(Config[logic]{Logger: quiet()})
	h.out = nil
	if err := h.load(pluginFile(t, "panics"), 1); err != nil {
		t.Fatal(err)
	}
	// Capture events through a control-less host: swap emit's sink.
	h.cfg.Logger = log.New(writerFunc(func(b []byte) {
		mu.Lock()
		got = append(got, protocol.Log{Text: string(b)})
		mu.Unlock()
	}), "", 0)
	srv := httptest.NewServer(h.Handler(func(w http.ResponseWriter, r *http.Request, l logic) {
		fmt.Fprint(w, l("bob"))
	}))
	defer srv.Close()
	for range 3 {
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 500 {
			t.Errorf("status %d, want 500", resp.StatusCode)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || !strings.Contains(got[0].(protocol.Log).Text, "handler boom: bob") {
		t.Errorf("panic events = %v", got)
	}
}

type writerFunc func([]byte)

func (f writerFunc) Write(b []byte) (int, error) { f(b); return len(b), nil }

func TestCheckHook(t *testing.T) {
	for _, tt := range []struct {
		name  string
		check func(logic) error
	}{
		{"error", func(logic) error { return errors.New("not ready") }},
		{"panic", func(logic) error { panic("check boom") }},
		{"timeout", func(logic) error { time.Sleep(time.Second); return nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := New(Config[logic]{Logger: quiet(), Check: tt.check, CheckTimeout: 100 * time.Millisecond})
			// The check runs before the swap and after plugin.Open; a file
			// opened once stays open, so each case needs its own plugin —
			// but the check rejects before any state changes, so the error
			// is all there is to see.
			err := h.check(func(string) string { return "" })
			if !errors.Is(err, errCheckFailed) {
				t.Errorf("err = %v, want a check failure", err)
			}
			if _, _, ok := h.Current(); ok {
				t.Error("a version became current")
			}
		})
	}
}

// control starts a Host under a fake hotrun and returns a connection to its
// control socket.
func control(t *testing.T, buildDir string) (*Host[logic], *bufio.Reader, net.Conn) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "c.sock")
	t.Setenv(protocol.EnvControl, sock)
	t.Setenv(protocol.EnvBuildDir, buildDir)
	h := New(Config[logic]{Logger: quiet()})
	startAside(t, h, sock)
	t.Cleanup(func() { h.Close() })
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return h, bufio.NewReader(c), c
}

// startAside runs h.Start as an engine's main does under hotrun, where it
// returns only at the takeover, and waits for its control socket, made
// private: the engine creates the socket, then narrows its mode, and a
// test that looked in between would see the first, or have its own
// chmod undone by the second.
func startAside[T any](t *testing.T, h *Host[T], sock string) {
	t.Helper()
	go h.Start("")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if fi, err := os.Stat(sock); err == nil && fi.Mode().Perm() == 0o600 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no control socket within 10s")
		}
	}
}

// reply sends line and returns the reply to it, skipping events.
func reply(t *testing.T, r *bufio.Reader, c net.Conn, line string) protocol.Reply {
	t.Helper()
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		b, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("reading reply to %.60q: %v", line, err)
		}
		var rep struct {
			Reply *int64 `json:"reply"`
		}
		if json.Unmarshal(b, &rep) == nil && rep.Reply != nil {
			var out protocol.Reply
			json.Unmarshal(b, &out)
			return out
		}
	}
}

func TestControlRefusesBadInput(t *testing.T) {
	build := t.TempDir()
	outside := filepath.Join(t.TempDir(), "evil.so")
	os.WriteFile(outside, []byte("not a plugin"), 0o644)
	link := filepath.Join(build, "link.so")
	os.Symlink(outside, link)
	_, r, c := control(t, build)

	tests := []struct {
		name, line, want string
	}{
		{"ping", `{"id":1,"op":"ping"}`, ""},
		{"path outside the build dir", fmt.Sprintf(`{"id":2,"op":"load","version":1,"path":%q}`, outside), "outside hotrun's build directory"},
		{"dot-dot escape", fmt.Sprintf(`{"id":3,"op":"load","version":1,"path":%q}`, build+"/../"+filepath.Base(filepath.Dir(outside))+"/evil.so"), "outside"},
		{"symlink escape", fmt.Sprintf(`{"id":4,"op":"load","version":1,"path":%q}`, link), "outside hotrun's build directory"},
		{"relative path", `{"id":5,"op":"load","version":1,"path":"evil.so"}`, "not an absolute path"},
		{"malformed", `{"id":6,"op":`, "malformed command"},
		{"unknown op", `{"id":7,"op":"exec"}`, "unknown command"},
		{"oversized", `{"id":8,"op":"ping","path":"` + strings.Repeat("x", protocol.MaxLine) + `"}`, "longer than"},
		{"still alive", `{"id":9,"op":"ping"}`, ""},
	}
	for _, tt := range tests {
		rep := reply(t, r, c, tt.line)
		if tt.want == "" && rep.Error != "" || tt.want != "" && !strings.Contains(rep.Error, tt.want) {
			t.Errorf("%s: reply error %q, want %q", tt.name, rep.Error, tt.want)
		}
		if tt.name == "unknown op" && rep.Code != protocol.CodeUnknownCommand {
			t.Errorf("unknown op: code %q, want %q: hotrun reads the code, not the words", rep.Code, protocol.CodeUnknownCommand)
		}
	}
}

func TestControlLoad(t *testing.T) {
	v1 := pluginFile(t, "v1")
	_, r, c := control(t, filepath.Dir(v1))
	if _, err := fmt.Fprintf(c, "{\"id\":1,\"op\":\"load\",\"version\":50,\"path\":%q}\n", pluginFile(t, "nosymbol")); err != nil {
		t.Fatal(err)
	}
	// The reply, and the load.fail event: both carry the failure's code,
	// which hotrun acts on (and its labs check), the words being for
	// people.
	var rep *protocol.Reply
	var fail *protocol.LoadFail
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for rep == nil || fail == nil {
		b, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("reading the reply and the event: %v", err)
		}
		var head struct {
			Reply *int64 `json:"reply"`
			Event string `json:"event"`
		}
		json.Unmarshal(b, &head)
		switch {
		case head.Reply != nil:
			rep = new(protocol.Reply)
			json.Unmarshal(b, rep)
		case head.Event == "load.fail":
			fail = new(protocol.LoadFail)
			json.Unmarshal(b, fail)
		}
	}
	if !strings.Contains(rep.Error, "symbol not found") || rep.Explain == "" || rep.Code != protocol.CodeNoSymbol {
		t.Errorf("reply %+v, want a symbol error with an explanation and its code", rep)
	}
	if fail.Version != 50 || fail.Code != protocol.CodeNoSymbol || fail.Explain == "" {
		t.Errorf("load.fail %+v, want version 50 with code %s and an explanation", fail, protocol.CodeNoSymbol)
	}
}
