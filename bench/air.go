package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// airConfig is air's configuration for the plain app: the same 50 ms
// delay as hotrun's debounce, the same app, the same address.
const airConfig = `root = "."
tmp_dir = "tmp"

[build]
cmd = "go build -o ./tmp/main ."
entrypoint = ["./tmp/main"]
args_bin = ["-addr", %q]
delay = 50
include_ext = ["go"]
exclude_dir = ["tmp"]

[log]
time = true

[misc]
clean_on_exit = true
`

// installAir installs air into a temporary GOBIN: e.o.airVer, or the
// newest v1.6x the module proxy serves when that one is not.
func (e *env) installAir(ctx context.Context) (bin, version string, err error) {
	gobin := filepath.Join(e.tmp, "bin")
	install := func(v string) error {
		cmd := exec.CommandContext(ctx, "go", "install", "github.com/air-verse/air@"+v)
		cmd.Dir = e.tmp
		cmd.Env = append(os.Environ(), "GOBIN="+gobin)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go install air@%s: %v\n%s", v, err, out)
		}
		return nil
	}
	version = e.o.airVer
	if err = install(version); err != nil {
		cmd := exec.CommandContext(ctx, "go", "list", "-m", "-versions", "github.com/air-verse/air")
		cmd.Dir = e.tmp
		out, lerr := cmd.Output()
		if lerr != nil {
			return "", "", err
		}
		version = newestV16(strings.Fields(string(out)))
		if version == "" {
			return "", "", err
		}
		if err = install(version); err != nil {
			return "", "", err
		}
	}
	return filepath.Join(gobin, "air"), version, nil
}

// airSession is air running on a project's plain twin.
type airSession struct {
	cmd        *exec.Cmd
	logf       *os.File
	url, file  string
	fl         *floor  // the bare build of the twin, after each edit
	floorTimes *sample // where fl's times go
	v          int     // the version of the last edit
	res        *modeResult
}

// runAir measures air on p's plain twin: save-to-live of the same one-line
// edit, each followed by the bare build, and the steady client during the
// same number of edits.
func (e *env) runAir(ctx context.Context, p *project, floorTimes *sample) (*modeResult, error) {
	a, err := e.startAir(ctx, p, floorTimes)
	if err != nil {
		return nil, err
	}
	defer a.close()
	e.progress("%s, air: save-to-live, %d runs, each followed by the bare build", p.name, e.o.n)
	for range e.o.n {
		if err := a.once(ctx, e); err != nil {
			return nil, err
		}
	}
	return a.finish(ctx, e)
}

// startAir installs air and starts it on a copy of p's twin.
func (e *env) startAir(ctx context.Context, p *project, floorTimes *sample) (*airSession, error) {
	fl, err := e.newFloor(ctx, p, "plain", "air")
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	r, err := e.launchAir(ctx, p, "air-"+p.name)
	if err != nil {
		return nil, err
	}
	return &airSession{cmd: r.cmd, logf: r.logf, url: r.url, file: filepath.Join(r.dir, p.plainMain),
		fl: fl, floorTimes: floorTimes, v: 1001, res: &modeResult{version: r.version}}, nil
}

// airRun is air running on a copy of a project's twin, its app serving.
type airRun struct {
	cmd      *exec.Cmd
	logf     *os.File // air's output and the app's
	dir, url string   // the copy; the app's URL
	version  string   // air's
}

// launchAir installs air, starts it on a copy of p's twin named name, and
// waits until the app it runs answers version 1001. On an error nothing
// is left running.
func (e *env) launchAir(ctx context.Context, p *project, name string) (*airRun, error) {
	e.progress("air: installing %s", e.o.airVer)
	bin, version, err := e.installAir(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := e.plainCopy(p, name)
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	e.progress("%s, air %s: starting", p.name, version)
	cmd, logf, err := startAirIn(bin, dir, fmt.Appendf(nil, airConfig, addr))
	if err != nil {
		return nil, err
	}
	r := &airRun{cmd: cmd, logf: logf, dir: dir, url: "http://" + addr + "/hello?name=test", version: version}
	if _, err := untilVersion(ctx, r.url, 1001, buildWait); err != nil {
		stopAir(cmd)
		logf.Close()
		return nil, fmt.Errorf("%w; air's log ends:\n%s", err, tail(logf.Name(), 15))
	}
	return r, nil
}

// once makes one edit, times it until air serves it, then times the bare
// build of the same edit with the same client polling.
func (a *airSession) once(ctx context.Context, e *env) error {
	a.v++
	wrote, err := setVersion(a.file, a.v)
	if err != nil {
		return err
	}
	live, missed, err := a.res.untilLive(ctx, a.url, a.file, a.v)
	if err != nil {
		return a.wrap(err)
	}
	if missed {
		return nil
	}
	a.res.live = append(a.res.live, live.Sub(wrote))
	time.Sleep(200 * time.Millisecond)
	d, err := a.fl.run(ctx, e, a.v, a.url)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	*a.floorTimes = append(*a.floorTimes, d)
	return nil
}

// finish runs the steady client during e.o.edits edits and returns air's
// figures.
func (a *airSession) finish(ctx context.Context, e *env) (*modeResult, error) {
	e.progress("air: steady client during %d edits", e.o.edits)
	if err := e.steadyEdits(ctx, a.res, a.url, a.file, &a.v); err != nil {
		return nil, a.wrap(err)
	}
	if b, err := os.ReadFile(a.logf.Name()); err == nil {
		a.res.bindFails = strings.Count(string(b), "address already in use")
	}
	return a.res, nil
}

func (a *airSession) wrap(err error) error {
	return fmt.Errorf("%w; air's log ends:\n%s", err, tail(a.logf.Name(), 15))
}

func (a *airSession) close() {
	stopAir(a.cmd)
	a.logf.Close()
}

// startAirIn starts air in dir with config as its .air.toml, its output
// and the app's in dir+".air.log" (beside the copy, so air never watches
// it), in a process group of its own for stopAir to kill.
func startAirIn(bin, dir string, config []byte) (*exec.Cmd, *os.File, error) {
	if err := os.WriteFile(filepath.Join(dir, ".air.toml"), config, 0o644); err != nil {
		return nil, nil, err
	}
	logf, err := os.Create(dir + ".air.log")
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(bin, "-c", ".air.toml")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, nil, err
	}
	return cmd, logf, nil
}

// stopAir interrupts air, which stops the app it runs; past 10 s it kills
// air's process group and the app's (air starts the app in a group of its
// own).
func stopAir(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// newestV16 is the newest release v1.6x.y in vs, or "".
func newestV16(vs []string) string {
	best, bestMinor, bestPatch := "", -1, -1
	for _, v := range vs {
		p := strings.Split(strings.TrimPrefix(v, "v"), ".")
		if len(p) != 3 || p[0] != "1" {
			continue
		}
		minor, err1 := strconv.Atoi(p[1])
		patch, err2 := strconv.Atoi(p[2])
		if err1 != nil || err2 != nil || minor < 60 || minor > 69 {
			continue
		}
		if minor > bestMinor || minor == bestMinor && patch > bestPatch {
			best, bestMinor, bestPatch = v, minor, patch
		}
	}
	return best
}

// tail is the last n lines of the file at path, for a failure's report:
// the scratch directory that holds it is gone when the bench ends.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
