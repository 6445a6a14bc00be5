//go:build !unix

package runner

// lockProject is a no-op where flock(2) does not exist.
func lockProject(out string) (func(), error) { return func() {}, nil }
