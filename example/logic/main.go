// Command logic is the example's logic plugin: build it with
// `go build -buildmode=plugin`, or let hotrun build a new version of it on
// every save. Edit modelVersion and modelName while hotrun runs and watch the
// engine serve the new values without losing its visit count.
package main

import (
	"github.com/hotrun-dev/hotrun/example/game"
	"github.com/hotrun-dev/hotrun/example/logic/greet"
)

const (
	modelVersion = 1001
	modelName    = "game1"
)

// Logic is the symbol the engine looks up.
var Logic game.Logic = model{}

type model struct{}

func (model) Version() int { return modelVersion }
func (model) Name() string { return modelName }

func (model) Hello(name string, s game.Snapshot) string {
	return greet.Hello(name, modelVersion, modelName, s)
}

func main() {}
