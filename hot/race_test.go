//go:build race

package hot

// raceEnabled: plugins must be built with -race exactly when the test is.
const raceEnabled = true
