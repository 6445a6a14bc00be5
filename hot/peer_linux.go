package hot

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// checkPeer refuses a connection from any user but the engine's own
// (SO_PEERCRED): the socket's 0600 mode already says so, and this holds even
// if the mode is loosened by mistake.
func checkPeer(c *net.UnixConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if credErr != nil {
		return fmt.Errorf("peer credentials: %w", credErr)
	}
	if int(cred.Uid) != os.Getuid() {
		return fmt.Errorf("peer uid %d is not the engine's uid %d", cred.Uid, os.Getuid())
	}
	return nil
}
