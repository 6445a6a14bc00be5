package event

import (
	"fmt"
	"strings"
)

// Generate says a generator ran before a build (hotrun.toml's
// before_build): its command, how long it took, what it printed, the files
// it wrote (relative to the project), and why it failed ("" when it did
// not). A failure fails the build it came before.
type Generate struct {
	Command  string   `json:"command"`
	Duration Duration `json:"duration_ms"`
	Output   string   `json:"output,omitempty"`
	Files    []string `json:"files,omitempty"`
	Error    string   `json:"error,omitempty"`
}

func (Generate) Name() string { return "generate" }

// formatGenerate is Format's line for a Generate: what ran and what it
// wrote, and its output under it.
func formatGenerate(e Generate) string {
	var b strings.Builder
	if e.Error != "" {
		fmt.Fprintf(&b, "generate %s FAILED in %s: %s", e.Command, e.Duration, e.Error)
	} else {
		fmt.Fprintf(&b, "generate %s ok in %s", e.Command, e.Duration)
		if len(e.Files) > 0 {
			b.WriteString(": wrote " + Summarize(e.Files, 3))
		}
	}
	for _, l := range strings.Split(strings.TrimRight(e.Output, "\n"), "\n") {
		if l != "" {
			b.WriteString("\n  " + l)
		}
	}
	return b.String()
}
