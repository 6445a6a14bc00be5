package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good.toml", "dir = \"ex\"\nlogic = \"./game\"\ndebounce = \"200ms\"\nargs = [\"-addr\", \":1\"]\nmode = \"restart\"\n")
	typo := file("typo.toml", "engin = \"./x\"\n")
	probes := file("probes.toml", "probe = [\"GET /hello?name=test\", \"POST /items {}\"]\nfresh = true\nbig = true\n")
	badProbe := file("badprobe.toml", "probe = [\"hello\"]\n")
	pprofFile := file("pprof.toml", "pprof = \"localhost:6060\"\n")
	web := file("web.toml", "reload = \"127.0.0.1:8081\"\nbefore_build = [\"templ generate\", { run = \"sqlc generate\", inputs = [\"db/*.sql\"] }]\n")
	tests := []struct {
		name  string
		args  []string
		check func(*config) string
		err   string
	}{
		{"defaults", []string{"-config", ""}, func(c *config) string {
			if c.Dir != "." || c.Engine != "./engine" || c.Logic != "./logic" || c.Debounce.Duration != 50*time.Millisecond || c.MaxVersions != 100 {
				return "wrong defaults"
			}
			return ""
		}, ""},
		{"file", []string{"-config", good}, func(c *config) string {
			if c.Dir != "ex" || c.Logic != "./game" || c.Debounce.Duration != 200*time.Millisecond || !slices.Equal(c.Args, []string{"-addr", ":1"}) || c.Mode != "restart" {
				return "file not applied"
			}
			return ""
		}, ""},
		{"flags win over the file", []string{"-config", good, "-logic", "./other", "-mode", "hotswap", "--", "-addr", ":2"}, func(c *config) string {
			if c.Logic != "./other" || c.Dir != "ex" || c.Mode != "hotswap" || !slices.Equal(c.Args, []string{"-addr", ":2"}) {
				return "flags did not win"
			}
			return ""
		}, ""},
		{"the web loop's keys", []string{"-config", web}, func(c *config) string {
			if c.Reload != "127.0.0.1:8081" || len(c.BeforeBuild) != 2 || c.BeforeBuild[0].Run != "templ generate" || !slices.Equal(c.BeforeBuild[1].Inputs, []string{"db/*.sql"}) {
				return "reload or before_build not read"
			}
			return ""
		}, ""},
		{"-before-build replaces the file's list", []string{"-config", web, "-before-build", "go generate ./...", "-reload", ":0"}, func(c *config) string {
			if len(c.BeforeBuild) != 1 || c.BeforeBuild[0].Run != "go generate ./..." || c.Reload != ":0" {
				return "flags did not win"
			}
			return ""
		}, ""},
		{"a reload address without a port", []string{"-config", "", "-reload", "localhost"}, nil, "reload"},
		{"json implies headless", []string{"-config", "", "-json"}, func(c *config) string {
			if !c.Headless {
				return "not headless"
			}
			return ""
		}, ""},
		{"lists", []string{"-config", "", "-include", "a/*.tmpl, b/**", "-buildflags", "-trimpath -race"}, func(c *config) string {
			if !slices.Equal(c.Include, []string{"a/*.tmpl", "b/**"}) || !slices.Equal(c.BuildFlags, []string{"-trimpath", "-race"}) {
				return "lists not split"
			}
			return ""
		}, ""},
		{"probes, fresh and big from the file", []string{"-config", probes}, func(c *config) string {
			if !slices.Equal(c.Probe, []string{"GET /hello?name=test", "POST /items {}"}) || !c.Fresh || !c.Big {
				return "probe, fresh or big not read"
			}
			return ""
		}, ""},
		{"-probe repeated replaces the file's list", []string{"-config", probes, "-probe", "/a", "-probe", "GET /b", "-fresh=false"}, func(c *config) string {
			if !slices.Equal(c.Probe, []string{"/a", "GET /b"}) || c.Fresh {
				return "flags did not win"
			}
			return ""
		}, ""},
		{"no probes, not fresh by default", []string{"-config", ""}, func(c *config) string {
			if len(c.Probe) != 0 || c.Fresh || c.Big {
				return "wrong defaults"
			}
			return ""
		}, ""},
		{"bad probe flag", []string{"-config", "", "-probe", "get /x"}, nil, "method in capitals"},
		{"bad probe in the file", []string{"-config", badProbe}, nil, "want a method in capitals and a path"},
		{"pprof on loopback", []string{"-config", "", "-pprof", "127.0.0.1:6060"}, func(c *config) string {
			if c.PProf != "127.0.0.1:6060" {
				return "pprof not set"
			}
			return ""
		}, ""},
		{"pprof from the file", []string{"-config", pprofFile}, func(c *config) string {
			if c.PProf != "localhost:6060" {
				return "pprof not read"
			}
			return ""
		}, ""},
		{"pprof off by default", []string{"-config", ""}, func(c *config) string {
			if c.PProf != "" {
				return "pprof on"
			}
			return ""
		}, ""},
		{"pprof on every interface", []string{"-config", "", "-pprof", ":6060"}, nil, "not a loopback address"},
		{"pprof on another host", []string{"-config", "", "-pprof", "10.0.0.1:6060"}, nil, "not a loopback address"},
		{"pprof without a port", []string{"-config", "", "-pprof", "127.0.0.1"}, nil, "want 127.0.0.1:PORT"},
		{"unknown key", []string{"-config", typo}, nil, `unknown key "engin"`},
		{"missing file named", []string{"-config", filepath.Join(dir, "none.toml")}, nil, "config file"},
		{"bad mode", []string{"-config", "", "-mode", "fast"}, nil, "want hotswap or restart"},
		{"unknown flag", []string{"-config", "", "-nope"}, nil, "nope"},
		{"unknown command", []string{"lab"}, nil, `unknown command "lab"`},
		{"unknown command after flags", []string{"-config", "", "-headless", "lab", "--", "-addr", ":1"}, nil, `unknown command "lab"`},
		{"engine arguments alone", []string{"-config", "", "--", "lab"}, func(c *config) string {
			if !slices.Equal(c.Args, []string{"lab"}) {
				return "engine arguments not kept"
			}
			return ""
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, io.Discard)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, errUsage) {
					t.Fatalf("err = %v, want a usage error containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(c); msg != "" {
				t.Errorf("%s: %+v", msg, c)
			}
		})
	}
}
