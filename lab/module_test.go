package lab

import (
	"strings"
	"testing"

	"github.com/hotrun-dev/hotrun/scaffold"
)

// TestGoMod checks the lab's go.mod both ways: a released hotrun requires
// the engine library at its own version, which `go install` put in the
// module cache, with no replace directive; a development build points at
// its checkout.
func TestGoMod(t *testing.T) {
	example := "module github.com/hotrun-dev/hotrun/example\n\ngo 1.26.7\n\nrequire github.com/hotrun-dev/hotrun/hot v0.0.0\n\nreplace github.com/hotrun-dev/hotrun/hot => ../hot\n"
	rel := goMod(example, library{Version: "v0.3.1"}, "")
	if rel != "module github.com/hotrun-dev/hotrun/example\n\ngo 1.26.7\n\nrequire github.com/hotrun-dev/hotrun/hot v0.3.1\n" {
		t.Errorf("released:\n%s", rel)
	}
	dev := goMod(example, library{Version: "v0.0.0", Dir: "/src/hotrun/hot"}, "require example.com/quote v1.0.0\n")
	for _, want := range []string{"require github.com/hotrun-dev/hotrun/hot v0.0.0\n", "replace github.com/hotrun-dev/hotrun/hot => /src/hotrun/hot\n", "require example.com/quote v1.0.0\n"} {
		if !strings.Contains(dev, want) {
			t.Errorf("development build: no %q in\n%s", want, dev)
		}
	}
	for v, want := range map[string]bool{"v0.3.1": true, "v0.0.0": false, "(devel)": false, "": false, "v0.1.1-0.20261130-abcdef": true} {
		if scaffold.Released(v) != want {
			t.Errorf("released(%q) = %v", v, !want)
		}
	}
}
