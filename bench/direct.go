package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hotrun-dev/hotrun/builder"
)

// directResult is the builder alone on one project: where a plugin build's
// time goes, per route, beside the bare go build of the same edit.
type directResult struct {
	fast, goBuild []builder.Result // the builder as hotrun runs it, and with NoFast
	floor         sample           // the bare plugin build, default linker
}

// direct runs the builder as hotrun does (fast path on, fastest linker)
// and with the fast path off, and the bare plugin build, interleaved: the
// same edit each, no client. It is what the build phase of save-to-live is
// made of, measured phase by phase (hotrun's events carry only the total).
func (e *env) direct(ctx context.Context, p *project) (*directResult, error) {
	e.progress("%s, the builder alone: fast path, go build route and bare build, %d runs", p.name, e.o.n)
	res := &directResult{}
	var bs [2]*builder.Builder
	var dirs [2]string
	for i, noFast := range []bool{false, true} {
		dir, err := e.projectCopy(p, fmt.Sprintf("direct-%s-%d", p.name, i))
		if err != nil {
			return nil, err
		}
		b, err := builder.New(ctx, builder.Config{Dir: dir, Engine: "./engine", Logic: "./logic", PluginLDFlags: pluginLDFlags, NoFast: noFast})
		if err != nil {
			return nil, err
		}
		if err := b.Clean(); err != nil {
			return nil, err
		}
		// The first build learns the build (fast path) and warms the cache.
		if _, err := b.BuildLogic(ctx, 1, nil); err != nil {
			return nil, err
		}
		bs[i], dirs[i] = b, dir
	}
	fl, err := e.newFloor(ctx, p, "plugin", "direct")
	if err != nil {
		return nil, err
	}
	for i := range e.o.n {
		v := 3001 + i
		for j, b := range bs {
			if _, err := setVersion(filepath.Join(dirs[j], p.logic), v); err != nil {
				return nil, err
			}
			r, err := b.BuildLogic(ctx, i+2, nil)
			if err != nil {
				return nil, err
			}
			if j == 0 {
				res.fast = append(res.fast, r)
			} else {
				res.goBuild = append(res.goBuild, r)
			}
		}
		d, err := fl.run(ctx, e, v, "")
		if err != nil {
			return nil, err
		}
		res.floor = append(res.floor, d)
	}
	return res, nil
}

// phase is one column of the builder's breakdown over runs.
func phase(rs []builder.Result, f func(builder.Result) time.Duration) sample {
	var s sample
	for _, r := range rs {
		s = append(s, f(r))
	}
	return s
}

// routes counts the routes and linkers of rs: "fast ×10, mold".
func routes(rs []builder.Result) string {
	n := map[string]int{}
	var order []string
	linker := ""
	for _, r := range rs {
		if n[r.Route] == 0 {
			order = append(order, r.Route)
		}
		n[r.Route]++
		linker = r.Linker
	}
	s := ""
	for i, r := range order {
		if i > 0 {
			s += " + "
		}
		s += fmt.Sprintf("%s ×%d", r, n[r])
	}
	return s + ", " + linker + " linker"
}
