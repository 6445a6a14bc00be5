//go:build race

package host

// raceEnabled: plugins must be built with -race exactly when the test is.
const raceEnabled = true
