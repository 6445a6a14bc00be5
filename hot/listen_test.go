package hot

import (
	"bytes"
	"encoding/json"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// TestListenHandsOver: under hotrun, a listener the engine opens itself,
// before hotrun attaches or after, is handed to hotrun with its socket;
// an inherited one, which hotrun holds already, is not.
func TestListenHandsOver(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "c.sock")
	t.Setenv(protocol.EnvControl, sock)
	t.Setenv(protocol.EnvBuildDir, t.TempDir())
	kept, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	fd := dupFD(t, kept)
	inherited := "tcp:" + kept.Addr().String()
	t.Setenv(protocol.EnvListeners, inherited+"="+strconv.Itoa(fd))

	h := New(Config[logic]{Logger: quiet()})
	listen := func(addr string) string {
		t.Helper()
		ln, err := h.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return "tcp:" + addr // the name hotrun knows it by
	}
	listen(kept.Addr().String()) // inherited
	before := listen("127.0.0.1:0")
	startAside(t, h, sock)
	defer h.Close()
	after := listen(":0")

	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []string
	var data []byte
	for len(got) < 2 {
		buf, oob := make([]byte, 4096), make([]byte, 256)
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			t.Fatalf("reading the hand-over (got %q): %v", got, err)
		}
		if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				fds, _ := syscall.ParseUnixRights(&m)
				for _, fd := range fds {
					syscall.Close(fd)
				}
			}
		}
		data = append(data, buf[:n]...)
		for {
			line, rest, ok := bytes.Cut(data, []byte("\n"))
			if !ok {
				break
			}
			data = rest
			var l protocol.Listener
			if json.Unmarshal(line, &l) == nil && l.Listener != "" {
				got = append(got, l.Listener)
			}
		}
	}
	slices.Sort(got)
	want := []string{before, after}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("handed %q, want %q (not the inherited %s)", got, want, inherited)
	}
}

// dupFD returns a descriptor of ln's socket that no *os.File owns, as an
// engine inherits it.
func dupFD(t *testing.T, ln net.Listener) int {
	t.Helper()
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	rc.Control(func(s uintptr) { fd, err = syscall.Dup(int(s)) })
	if err != nil {
		t.Fatal(err)
	}
	return fd
}
