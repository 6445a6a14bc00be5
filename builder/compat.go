package builder

import (
	"debug/buildinfo"
	"fmt"
	"strings"
)

// mustMatch are the build settings in which an engine and its plugins must
// agree: Go checks some of them itself only with a fatal error ("runtime: no
// plugin module data") that no recover catches, and some not at all.
func mustMatch() []string {
	return []string{"-race", "-trimpath", "-msan", "-asan", "CGO_ENABLED", "GOOS", "GOARCH", "-gcflags", "-asmflags"}
}

// Compatible reports an error when the plugin at so was built with another
// Go or other settings than the engine at engine, and so must not be loaded
// into it. -tags and -ldflags may differ.
func Compatible(engine, so string) error {
	e, err := buildinfo.ReadFile(engine)
	if err != nil {
		return fmt.Errorf("builder: read build info of %s: %w", engine, err)
	}
	p, err := buildinfo.ReadFile(so)
	if err != nil {
		return fmt.Errorf("builder: read build info of %s: %w", so, err)
	}
	if e.GoVersion != p.GoVersion {
		return fmt.Errorf("builder: the engine was built with %s and the plugin with %s", e.GoVersion, p.GoVersion)
	}
	es, ps := settings(e), settings(p)
	var diffs []string
	for _, k := range mustMatch() {
		if es[k] != ps[k] {
			diffs = append(diffs, fmt.Sprintf("%s=%q in the engine, %q in the plugin", k, es[k], ps[k]))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("builder: engine and plugin built differently: %s", strings.Join(diffs, "; "))
	}
	return nil
}

func settings(bi *buildinfo.BuildInfo) map[string]string {
	m := make(map[string]string)
	for _, s := range bi.Settings {
		m[s.Key] = s.Value
	}
	return m
}
