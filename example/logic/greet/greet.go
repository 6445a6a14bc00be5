// Package greet formats the example's greeting. It is part of the logic
// tree, so an edit here is hot-swapped like an edit to the logic's main.
package greet

import (
	"fmt"

	"github.com/hotrun-dev/hotrun/example/game"
)

// Hello returns the answer of the original plugin demo.
func Hello(name string, version int, model string, s game.Snapshot) string {
	return fmt.Sprintf("hello %s, this is golang plugin test!, version=%d, name=%s, oldversion=%d, oldName=%s, visits=%d",
		name, version, model, s.OldVersion, s.OldName, s.Visits)
}
