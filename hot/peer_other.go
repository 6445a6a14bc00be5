//go:build !linux

package hot

import "net"

// checkPeer relies on the socket's 0600 mode where SO_PEERCRED is missing.
func checkPeer(*net.UnixConn) error { return nil }
