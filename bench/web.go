package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// webProject is issue 21's row: a logic package that renders embedded
// HTML templates (//go:embed templates/*.html, a CSS file), edited in a
// template, as a web developer edits. Its plain twin is the same page as
// one executable, for air.
var webProject = &project{name: "web", src: "bench/testdata/web", plain: "bench/testdata/webplain",
	logic: "logic/templates/page.html", plainMain: "templates/page.html"}

// modelRE reads the version a page shows.
var modelRE = regexp.MustCompile(`modelVersion = (\d+)`)

// webResult is the web row: save-to-live of a template edit through each
// tool's browser-reload proxy, the bare plugin build of the same edit,
// and the load average before and after.
type webResult struct {
	hot, floor, air      sample
	routes               map[string]int
	airVersion, airSkip  string
	loadStart, loadEnd   string
	hotMissed, airMissed int
}

// untilModel waits until url shows modelVersion v.
func untilModel(ctx context.Context, url string, v int, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		body, err := get(ctx, url)
		if m := modelRE.FindStringSubmatch(body); err == nil && m != nil && m[1] == strconv.Itoa(v) {
			return time.Now(), nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = firstLine(body)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return time.Time{}, fmt.Errorf("%s did not show version %d within %s (last: %s)", url, v, limit, last)
}

// web measures the web row: hot swap through hotrun's reload proxy
// (-reload), each edit followed by the bare plugin build of the same edit
// and, with -air, by air's run of it through air's proxy, interleaved.
func (e *env) web(ctx context.Context) (*webResult, error) {
	p := webProject
	res := &webResult{loadStart: loadAvg(), routes: map[string]int{}}
	e.progress("web, hotrun: starting, with -reload")
	dir, err := e.projectCopy(p, "web-hotswap")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	proxy, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s, err := startSession(e.bin, dir, addr, "-max-versions", "-1", "-reload", proxy)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	if _, err := s.wait(ctx, buildWait, "first load.ok", isLoadOK); err != nil {
		return nil, err
	}
	url := "http://" + proxy + "/hello?name=test"
	if _, err := untilModel(ctx, url, 1001, liveWait); err != nil {
		return nil, err
	}
	fl, err := e.newFloor(ctx, p, "plugin", "web")
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	var air *webAir
	if e.o.air {
		if air, err = e.startWebAir(ctx, p); err != nil {
			e.progress("air: %v", err)
			res.airSkip = "n/a: " + firstLine(err.Error())
		} else {
			defer air.close()
			res.airVersion = air.version
		}
	}
	file := filepath.Join(dir, p.logic)
	e.progress("web: save-to-live of a template edit, %d runs, each followed by the bare plugin build and air's run", e.o.n)
	for v := 1002; v < 1002+e.o.n; v++ {
		mark := s.mark()
		wrote, err := setVersion(file, v)
		if err != nil {
			return nil, err
		}
		live, err := untilModel(ctx, url, v, missWait)
		if err != nil {
			res.hotMissed++
			if _, err := setVersion(file, v); err != nil {
				return nil, err
			}
			if _, err := untilModel(ctx, url, v, liveWait); err != nil {
				return nil, err
			}
		} else {
			res.hot = append(res.hot, live.Sub(wrote))
		}
		time.Sleep(200 * time.Millisecond)
		for _, r := range s.since(mark) {
			if ok, is := r.Event.(event.BuildOK); is && ok.Target == event.TargetLogic {
				res.routes[ok.Route]++
			}
		}
		d, err := fl.run(ctx, e, v, url)
		if err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
		res.floor = append(res.floor, d)
		if air != nil && res.airSkip == "" {
			if err := air.once(ctx, v, res); err != nil {
				e.progress("air: %v", err)
				res.airSkip = "n/a: " + firstLine(err.Error())
			}
		}
	}
	res.loadEnd = loadAvg()
	return res, nil
}

// airWebConfig is air's configuration for the web project's twin: its
// browser-reload proxy on, templates and CSS watched, the same 50 ms delay
// as hotrun's debounce.
const airWebConfig = `root = "."
tmp_dir = "tmp"

[build]
cmd = "go build -o ./tmp/main ."
entrypoint = ["./tmp/main"]
args_bin = ["-addr", %q]
delay = 50
include_ext = ["go", "html", "css"]
exclude_dir = ["tmp"]

[proxy]
enabled = true
proxy_port = %s
app_port = %s

[log]
time = true

[misc]
clean_on_exit = true
`

// webAir is air running the web project's twin, its proxy serving.
type webAir struct {
	cmd     *exec.Cmd
	logf    *os.File
	file    string // the template the edits change
	url     string // through air's proxy
	version string
}

func (e *env) startWebAir(ctx context.Context, p *project) (*webAir, error) {
	e.progress("air: installing %s", e.o.airVer)
	bin, version, err := e.installAir(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := e.plainCopy(p, "air-web")
	if err != nil {
		return nil, err
	}
	app, err := freeAddr()
	if err != nil {
		return nil, err
	}
	proxy, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, appPort, _ := strings.Cut(app, ":")
	_, proxyPort, _ := strings.Cut(proxy, ":")
	e.progress("web, air %s: starting, with its proxy", version)
	cmd, logf, err := startAirIn(bin, dir, fmt.Appendf(nil, airWebConfig, app, proxyPort, appPort))
	if err != nil {
		return nil, err
	}
	a := &webAir{cmd: cmd, logf: logf, file: filepath.Join(dir, p.plainMain), url: "http://localhost:" + proxyPort + "/hello?name=test", version: version}
	if _, err := untilModel(ctx, a.url, 1001, buildWait); err != nil {
		a.close()
		return nil, fmt.Errorf("%w; air's log ends:\n%s", err, tail(logf.Name(), 15))
	}
	// air's proxy adds its reload script to the page; the bench reads the
	// same page hotrun's does.
	if body, _ := get(ctx, a.url); !strings.Contains(body, "<script") {
		e.progress("air: its proxy added no script to the page")
	}
	return a, nil
}

// once makes edit v and times it until air's proxy serves it.
func (a *webAir) once(ctx context.Context, v int, res *webResult) error {
	wrote, err := setVersion(a.file, v)
	if err != nil {
		return err
	}
	live, err := untilModel(ctx, a.url, v, missWait)
	if err != nil {
		res.airMissed++
		if _, err := setVersion(a.file, v); err != nil {
			return err
		}
		if _, err := untilModel(ctx, a.url, v, liveWait); err != nil {
			return fmt.Errorf("%w; air's log ends:\n%s", err, tail(a.logf.Name(), 15))
		}
		return nil
	}
	res.air = append(res.air, live.Sub(wrote))
	time.Sleep(200 * time.Millisecond)
	return nil
}

func (a *webAir) close() {
	stopAir(a.cmd)
	a.logf.Close()
}

// print writes the web row.
func (r *webResult) print(w io.Writer) {
	fmt.Fprintf(w, "\n**web** (bench/testdata/web: the logic renders `//go:embed templates/*.html` and a CSS file; each edit changes a template), load average %s at its start, %s at its end\n\n", r.loadStart, r.loadEnd)
	fmt.Fprintln(w, "| tool | save-to-live, through its browser-reload proxy | the bare plugin build | ÷ bare build | ÷ air | builds |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	var routes []string
	for k, n := range r.routes {
		routes = append(routes, fmt.Sprintf("%s ×%d", k, n))
	}
	slices.Sort(routes)
	vsAir := "—"
	if len(r.air) > 0 {
		vsAir = ratio(r.hot.median(), r.air.median())
	}
	fmt.Fprintf(w, "| hotrun hot swap (`-reload`) | %s | %s | %s | %s | %s |\n", r.hot, r.floor, ratio(r.hot.median(), r.floor.median()), vsAir, strings.Join(routes, ", "))
	switch {
	case len(r.air) > 0:
		fmt.Fprintf(w, "| air %s (`[proxy] enabled`) | %s | | | | go build, restart |\n", r.airVersion, r.air)
	case r.airSkip != "":
		fmt.Fprintf(w, "| air | %s | | | | |\n", r.airSkip)
	}
	if r.hotMissed+r.airMissed > 0 {
		fmt.Fprintf(w, "\nEdits missed and saved again (not timed): hotrun %d, air %d.\n", r.hotMissed, r.airMissed)
	}
}
