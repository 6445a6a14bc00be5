package hot

import (
	"github.com/hotrun-dev/hotrun/hot/protocol"

	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPeerOtherUserRefused connects to the control socket as another user
// and expects the engine to hang up without answering, even with the socket
// and its directory opened to everyone by mistake (SO_PEERCRED).
func TestPeerOtherUserRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to connect as another user (uid 65534)")
	}
	// Not t.TempDir: its parent is private, and the other user must reach
	// the socket for the peer check to be what refuses it.
	sockDir, err := os.MkdirTemp("", "hotrun-sock-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	sock := filepath.Join(sockDir, "c.sock")
	t.Setenv(protocol.EnvControl, sock)
	t.Setenv(protocol.EnvBuildDir, t.TempDir())
	h := New(Config[logic]{Logger: quiet()})
	startAside(t, h, sock)
	defer h.Close()
	// Loosen every guard but the peer check.
	os.Chmod(sockDir, 0o755)
	os.Chmod(sock, 0o666)

	// The test binary, where another user can run it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.MkdirTemp("", "hotrun-peer-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(bin)
	os.Chmod(bin, 0o755)
	exe := filepath.Join(bin, "host.test")
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name string
		uid  uint32
		want string
	}{
		{"same user", 0, "REPLY"},
		{"other user", 65534, "CLOSED"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(exe, "-test.run=^TestPeerDialHelper$", "-test.v")
			cmd.Env = append(os.Environ(), "HOTRUN_TEST_DIAL="+sock)
			cmd.Dir = bin
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: tt.uid, Gid: tt.uid}}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("helper as uid %d: %v\n%s", tt.uid, err, out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("as uid %d: got\n%s\nwant %s", tt.uid, out, tt.want)
			}
		})
	}
}

// TestPeerDialHelper is TestPeerOtherUserRefused's client, run as another
// user: it pings the socket and says whether an answer came.
func TestPeerDialHelper(t *testing.T) {
	sock := os.Getenv("HOTRUN_TEST_DIAL")
	if sock == "" {
		t.Skip("run by TestPeerOtherUserRefused")
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Println("DIAL", err)
		return
	}
	defer c.Close()
	io.WriteString(c, `{"id":1,"op":"ping"}`+"\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		fmt.Println("CLOSED", err)
		return
	}
	fmt.Println("REPLY", strings.TrimSpace(line))
}
