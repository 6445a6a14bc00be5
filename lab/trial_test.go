package lab

import (
	"os/exec"
	"testing"
)

// TestHostDied: a host that dies of a fatal error (a plugin from another
// Go) is reported with the error's last line, at each open after too.
func TestHostDied(t *testing.T) {
	h, err := runHost(exec.Command("sh", "-c", `read f; echo "fatal error: runtime: no plugin module data" >&2; echo "goroutine 1 [running]:" >&2; exit 2`))
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	b := &bench{dir: t.TempDir(), out: t.TempDir()}
	for _, file := range []string{"one.so", "two.so"} {
		o := h.open(b, file, "go build")
		if want := "labhost died: fatal error: runtime: no plugin module data"; o.Error != want {
			t.Errorf("open %s: %q, want %q", file, o.Error, want)
		}
	}
}
