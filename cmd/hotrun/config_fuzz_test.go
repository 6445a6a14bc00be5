package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/hotrun-dev/hotrun/probe"
)

// FuzzConfig reads any hotrun.toml. It must not panic; a file it refuses is
// a usage error (exit code 2) that names the file; and a file it takes
// gives a config hotrun can run with: a known mode, probes that parse,
// durations that are not negative.
func FuzzConfig(f *testing.F) {
	path := filepath.Join(f.TempDir(), "hotrun.toml")
	f.Fuzz(func(t *testing.T, toml string) {
		if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := parseConfig([]string{"-config", path}, io.Discard)
		if err != nil {
			if !errors.Is(err, errUsage) {
				t.Fatalf("refused with an error that is no usage error: %v", err)
			}
			return
		}
		switch cfg.Mode {
		case "", "hotswap", "restart":
		default:
			t.Fatalf("mode %q taken", cfg.Mode)
		}
		for _, p := range cfg.Probe {
			if _, err := probe.Parse(p); err != nil {
				t.Fatalf("probe %q taken: %v", p, err)
			}
		}
		if cfg.JSON && !cfg.Headless {
			t.Fatal("json without headless")
		}
		if cfg.Debounce.Duration < 0 || cfg.SnapshotEvery.Duration < 0 {
			t.Fatalf("negative debounce %v or snapshot_every %v taken", cfg.Debounce.Duration, cfg.SnapshotEvery.Duration)
		}
	})
}
