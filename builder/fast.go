package builder

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"go/build"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hotrun-dev/hotrun/internal/command"
	"github.com/hotrun-dev/hotrun/internal/paths"
)

// The fast path builds a plugin the way the go command would, without the
// go command: it runs the compiler on the logic packages that changed and
// the linker on the result, with the flags, import configuration and build
// information that the go command used when it was asked once (a plan).
// That skips what costs the go command ~300 ms on every save — loading
// packages and checking the build cache of every dependency — which can't
// change between two saves that only touch the logic tree.
//
// A plan is learned from two go commands run beside a normal build:
// "go build -n" of the logic package (the compile and link command lines and
// the build information the go command would embed) and "go list -deps
// -export" (every dependency's compiled archive in the build cache, built
// with the same flags). It is thrown away when anything it was learned from
// may have changed: the engine is rebuilt (any host change), a file of a
// dependency inside the module, go.mod, go.sum, the compiler or linker
// binary, or the build flags. What the plan can't build — cgo or assembly
// in the logic, a new import from outside the logic tree, an embed pattern
// the go command would refuse — goes to the go command. A package with
// //go:embed (templates, CSS) gets the embed configuration the go command
// would write (embed.go), so an edit to an embedded file stays fast.
//
// The link is the rest of a build's cost. The linker gets the fastest
// external linker installed (linker.go) and a C compiler wrapper that
// answers the linker's flag probes from a cache (cc.go).

// plan is what the fast path learned from the go command.
type plan struct {
	flags   []string // Config.Flags it was learned with
	ldflags string   // the plugin -ldflags it was learned with

	compile, link string            // the tools' paths
	linkEnv       []string          // the environment the go command gives link (GOROOT)
	cflags        []string          // compile flags every logic package gets
	trimDirs      bool              // -trimpath: rewrite source directories to import paths
	lflags        []string          // link flags, without the per-build ones
	modinfo       string            // build information, for the logic's import path
	exports       map[string]string // import path → compiled archive, every dependency outside the logic tree
	stamps        map[string]stamp  // files whose change makes the plan stale
	bctx          build.Context     // to pick a package's files as the go command does
}

// stamp is what a file looked like when the plan was learned.
type stamp struct {
	size     int64
	mod      time.Time
	sizeOnly bool // mod is not compared
}

func stampOf(p string) stamp {
	fi, err := os.Stat(p)
	if err != nil {
		return stamp{size: -1}
	}
	return stamp{size: fi.Size(), mod: fi.ModTime()}
}

// stale reports why the plan no longer describes the build, or "".
func (p *plan) stale(flags []string, ldflags string) string {
	if !slices.Equal(p.flags, flags) || p.ldflags != ldflags {
		return "build flags changed"
	}
	for f, s := range p.stamps {
		now := stampOf(f)
		if s.sizeOnly {
			now.mod, now.sizeOnly = time.Time{}, true
		}
		if now != s {
			return f + " changed"
		}
	}
	return ""
}

// errNotCovered is a build the fast path leaves to the go command; the
// plan still holds for the next one.
var errNotCovered = errors.New("not covered by the fast path")

// errStalePlan is a build the plan can't describe (a new import): the go
// command builds it, and a new plan is learned beside.
var errStalePlan = errors.New("the fast path's plan is stale")

// planState holds the learned plan; guarded by Builder.pmu.
type planState struct {
	plan *plan
	gen  int64 // bumped by every invalidation: a plan learned across one is dropped
	// err is why learning or a fast build failed. Learning is tried again
	// after the next invalidation, or when the logic's imports from
	// outside it (errSig, see importSig) change: a half-typed import the
	// go command can't resolve is fixed by the next save.
	err    error
	errSig string
}

// importSig sums the logic's imports from outside the logic tree.
func importSig(pkgs []*logicPkg) string {
	var all []string
	for _, q := range pkgs {
		all = append(all, q.ext...)
	}
	slices.Sort(all)
	return strings.Join(slices.Compact(all), "\x00")
}

// invalidate drops the plan: the next build goes through the go command
// and learns a new one.
func (b *Builder) invalidate() {
	b.pmu.Lock()
	b.ps.plan, b.ps.err = nil, nil
	b.ps.gen++
	b.pmu.Unlock()
}

// currentPlan returns the plan if it still holds, and whether a build
// should learn one.
func (b *Builder) currentPlan(ldflags, sig string) (p *plan, learn bool, gen int64) {
	b.pmu.Lock()
	defer b.pmu.Unlock()
	if b.ps.plan != nil && b.ps.plan.stale(b.cfg.Flags, ldflags) != "" {
		b.ps.plan = nil
		b.ps.gen++
	}
	if b.ps.err != nil && b.ps.errSig != sig {
		b.ps.err = nil
	}
	return b.ps.plan, b.ps.plan == nil && b.ps.err == nil, b.ps.gen
}

// storePlan keeps what learning gave (a plan or why there is none), unless
// the plan was invalidated meanwhile.
func (b *Builder) storePlan(p *plan, err error, gen int64, sig string) {
	b.pmu.Lock()
	defer b.pmu.Unlock()
	if gen != b.ps.gen {
		return
	}
	b.ps.plan, b.ps.err, b.ps.errSig = p, err, sig
}

// learn asks the go command how it builds the logic plugin. pkgs are the
// logic packages as staging scanned them: their imports from outside the
// logic tree are what go list must compile and name.
func (b *Builder) learn(ctx context.Context, ldflags string, pkgs []*logicPkg) (*plan, error) {
	p := &plan{flags: slices.Clone(b.cfg.Flags), ldflags: ldflags, stamps: map[string]stamp{}}
	// A file changed after learning began may have been read before the
	// change: its stamp is one no file has, so the plan is stale at its
	// first use. (The kernel's file times are coarse: a few ms of slack.)
	t0 := time.Now().Add(-50 * time.Millisecond)
	stampSince := func(f string) stamp {
		s := stampOf(f)
		if s.mod.After(t0) {
			s.size = -2
		}
		return s
	}
	// Stamp first: an edit while the go commands run makes the plan stale.
	for _, f := range []string{"go.mod", "go.sum", "go.work", "go.work.sum"} {
		p.stamps[filepath.Join(b.cfg.Dir, f)] = stampOf(filepath.Join(b.cfg.Dir, f))
	}
	nArgs := append([]string{"build", "-n", "-buildmode=plugin", "-o", filepath.Join(b.BuildDir(), "learn.so")}, b.cfg.Flags...)
	if ldflags != "" {
		nArgs = append(nArgs, "-ldflags="+ldflags)
	}
	nArgs = append(nArgs, b.cfg.Logic)
	// The logic's own packages are left out: go list -export would compile
	// them, and fail on the very error the user is fixing. The linker's
	// own dependencies are added as the go command adds them.
	roots := map[string]bool{"runtime": true, "runtime/cgo": true}
	for _, f := range b.cfg.Flags {
		for _, s := range []string{"race", "msan", "asan"} {
			if f == "-"+s || f == "-"+s+"=true" {
				roots["runtime/"+s] = true
			}
		}
	}
	for _, q := range pkgs {
		for _, ip := range q.ext {
			roots[ip] = true
		}
	}
	delete(roots, "unsafe")
	listArgs := append([]string{"list", "-e", "-buildmode=plugin", "-deps", "-export", "-json=ImportPath,Export,Standard,Dir,Module"}, b.cfg.Flags...)
	for _, r := range slices.Sorted(maps.Keys(roots)) {
		listArgs = append(listArgs, r)
	}
	var (
		wg         sync.WaitGroup
		nOut, lOut string
		nErr, lErr error
	)
	wg.Add(2)
	go func() { defer wg.Done(); nOut, nErr = b.runOut(ctx, nArgs...) }()
	go func() { defer wg.Done(); lOut, lErr = b.runOut(ctx, listArgs...) }()
	wg.Wait()
	if nErr != nil {
		return nil, fmt.Errorf("go build -n: %w: %s", nErr, firstLine(nOut))
	}
	if lErr != nil {
		return nil, fmt.Errorf("go list -export: %w: %s", lErr, firstLine(lOut))
	}
	if err := p.parseCommands(nOut, b.logicPath); err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" {
		var err error
		if p.lflags, err = shimExtld(p.lflags, filepath.Join(b.out, "cc")); err != nil {
			return nil, fmt.Errorf("builder: %w", err)
		}
	}
	p.exports = map[string]string{}
	dec := json.NewDecoder(strings.NewReader(lOut))
	for {
		var pkg struct {
			ImportPath, Export, Dir string
			Standard                bool
			Module                  *struct {
				Main    bool
				Replace *struct{ Version string }
			}
		}
		if err := dec.Decode(&pkg); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list -export: %w", err)
		}
		if pkg.ImportPath == b.logicPath || strings.HasPrefix(pkg.ImportPath, b.logicPath+"/") || pkg.ImportPath == "unsafe" {
			continue
		}
		if pkg.Export == "" {
			continue // broken or missing: a logic package importing it goes to the go command
		}
		p.exports[pkg.ImportPath] = pkg.Export
		// The archive itself may go (go clean -cache, the cache's trim).
		// Its name is its content's hash, and the go command touches an
		// archive it uses once an hour: only the size counts.
		p.stamps[pkg.Export] = stamp{size: stampOf(pkg.Export).size, sizeOnly: true}
		// A dependency the user can edit: its directory and files. One
		// from the module cache or GOROOT changes only with go.mod or the
		// toolchain, both stamped.
		local := !pkg.Standard && pkg.Module != nil && (pkg.Module.Main || pkg.Module.Replace != nil && pkg.Module.Replace.Version == "")
		if local || (pkg.Dir != "" && !pkg.Standard && within(b.cfg.Dir, pkg.Dir)) {
			p.stamps[pkg.Dir] = stampSince(pkg.Dir)
			if ents, err := os.ReadDir(pkg.Dir); err == nil {
				for _, e := range ents {
					if !e.IsDir() {
						f := filepath.Join(pkg.Dir, e.Name())
						p.stamps[f] = stampSince(f)
					}
				}
			}
		}
	}
	p.stamps[p.compile] = stampOf(p.compile)
	p.stamps[p.link] = stampOf(p.link)
	return p, nil
}

// within reports whether p lies in the tree at root.
func within(root, p string) bool {
	_, ok := paths.Within(root, p)
	return ok
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// parseCommands reads the compile line of the logic's main package, the
// link line and the build information from "go build -n" output.
func (p *plan) parseCommands(out, logicPath string) error {
	var compileLine, linkLine []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "modinfo "):
			mi, err := strconv.Unquote(strings.TrimPrefix(line, "modinfo "))
			if err != nil {
				return fmt.Errorf("go build -n: modinfo: %w", err)
			}
			p.modinfo = mi
		case strings.Contains(line, " -p "+logicPath+" ") && strings.Contains(line, "compile"):
			compileLine = shellFields(line)
		case strings.Contains(line, "-buildmode=plugin") && strings.Contains(line, "link"):
			linkLine = shellFields(line)
		}
	}
	if compileLine == nil || linkLine == nil || p.modinfo == "" {
		return errors.New("go build -n: no compile or link command for the logic package")
	}
	if !strings.Contains(p.modinfo, "path\t"+logicPath+"\n") {
		return errors.New("go build -n: the build information does not name the logic package")
	}
	// compile -o X -trimpath X -p X … -importcfg X -pack files…
	p.compile = compileLine[0]
	for i := 1; i < len(compileLine); i++ {
		a := compileLine[i]
		switch a {
		case "-pack":
			i = len(compileLine) // the files follow
			continue
		case "-o", "-p", "-buildid", "-importcfg":
			i++
			continue
		case "-trimpath":
			i++
			p.trimDirs = i < len(compileLine) && strings.Contains(compileLine[i], ";")
			continue
		case "-embedcfg":
			// Each package's own: compileOne writes it (embed.go).
			i++
			continue
		case "-symabis", "-asmhdr":
			return errNotCovered
		}
		p.cflags = append(p.cflags, a)
	}
	// [GOROOT=…] link -o a.out.so -importcfg X … -pluginpath X -buildid=X … pkg.a
	for len(linkLine) > 0 && strings.Contains(linkLine[0], "=") && !strings.HasPrefix(linkLine[0], "/") {
		p.linkEnv = append(p.linkEnv, linkLine[0])
		linkLine = linkLine[1:]
	}
	if len(linkLine) < 2 {
		return errors.New("go build -n: no link command")
	}
	p.link = linkLine[0]
	args := linkLine[1 : len(linkLine)-1] // the last is the main package's archive
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-o" || a == "-importcfg" || a == "-pluginpath":
			i++
		case strings.HasPrefix(a, "-buildid="):
		default:
			p.lflags = append(p.lflags, a)
		}
	}
	// A flag that names the go command's scratch directory (a PGO profile,
	// a coverage config) would need files the fast path doesn't make.
	for _, f := range append(slices.Clone(p.cflags), p.lflags...) {
		if strings.Contains(f, "$WORK") {
			return fmt.Errorf("%w: go build -n: flag %s needs the go command's work directory", errNotCovered, f)
		}
	}
	p.bctx = build.Default
	p.bctx.CgoEnabled = true
	for _, l := range strings.Split(p.modinfo, "\n") {
		switch {
		case strings.HasPrefix(l, "build\tGOOS="):
			p.bctx.GOOS = strings.TrimPrefix(l, "build\tGOOS=")
		case strings.HasPrefix(l, "build\tGOARCH="):
			p.bctx.GOARCH = strings.TrimPrefix(l, "build\tGOARCH=")
		case strings.HasPrefix(l, "build\t-tags="):
			p.bctx.BuildTags = strings.Split(strings.TrimPrefix(l, "build\t-tags="), ",")
		}
	}
	return nil
}

// shellFields splits a command line as sh would, for the quoting the go
// command's -n output uses: '…', "…" with backslash escapes, and words.
func shellFields(s string) []string {
	var out []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			in = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			in = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				cur.WriteByte(s[i])
			}
		case c == ' ' || c == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			in = true
			cur.WriteByte(c)
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// objPath is where the fast path keeps the compiled archive of logic
// package rel staged in stage: beside the staged copy, so it goes when the
// stage goes. "_" keeps the go command out of it.
func (b *Builder) objPath(stage, rel string) string {
	name := "main"
	if rel != "." {
		name = "pkg." + strings.ReplaceAll(rel, "/", "%")
	}
	return filepath.Join(b.out, "stage", stage, "_obj", name+".a")
}

// fastBuild builds the staged logic into so with the plan.
func (b *Builder) fastBuild(ctx context.Context, p *plan, stage string, pkgs []*logicPkg, where map[string]string, so string, ph *Phases) error {
	byRel := map[string]*logicPkg{}
	for _, q := range pkgs {
		byRel[q.rel] = q
	}
	// The packages the plugin holds, each after the logic packages it
	// imports.
	var order []*logicPkg
	seen := map[string]bool{}
	var visit func(rel string) error
	visit = func(rel string) error {
		if seen[rel] {
			return nil
		}
		seen[rel] = true
		q := byRel[rel]
		if q == nil {
			return fmt.Errorf("%w: no logic package %s", errNotCovered, rel)
		}
		if q.cgo || q.nonGo {
			return fmt.Errorf("%w: %s uses cgo or non-Go sources", errNotCovered, rel)
		}
		for _, ip := range q.ext {
			if p.exports[ip] == "" && ip != "unsafe" {
				return fmt.Errorf("%w: %s imports %s, new to the plan", errStalePlan, rel, ip)
			}
		}
		for _, d := range q.deps {
			if err := visit(d); err != nil {
				return err
			}
		}
		order = append(order, q)
		return nil
	}
	if err := visit("."); err != nil {
		return err
	}
	var cfg strings.Builder
	for ip, a := range p.exports {
		fmt.Fprintf(&cfg, "packagefile %s=%s\n", ip, a)
	}
	for _, q := range order {
		fmt.Fprintf(&cfg, "packagefile %s=%s\n", b.stagedImport(q.rel, where[q.rel]), b.objPath(where[q.rel], q.rel))
	}
	objDir := filepath.Join(b.out, "stage", stage, "_obj")
	if err := os.MkdirAll(objDir, 0o755); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	importcfg := filepath.Join(objDir, "importcfg")
	if err := os.WriteFile(importcfg, []byte("# import config\n"+cfg.String()), 0o644); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	t := time.Now()
	for _, q := range order {
		obj := b.objPath(where[q.rel], q.rel)
		if where[q.rel] != stage {
			if _, err := os.Stat(obj); err == nil {
				continue // compiled by an earlier build, unchanged since
			}
		}
		if err := b.compileOne(ctx, p, q, where[q.rel], importcfg, obj); err != nil {
			ph.Compile = time.Since(t)
			return err
		}
	}
	ph.Compile = time.Since(t)

	t = time.Now()
	mainPath := b.stagedImport(".", stage)
	mi := strings.Replace(p.modinfo, "path\t"+b.logicPath+"\n", "path\t"+mainPath+"\n", 1)
	linkcfg := filepath.Join(objDir, "importcfg.link")
	if err := os.WriteFile(linkcfg, []byte("modinfo "+strconv.Quote(mi)+"\n"+cfg.String()), 0o644); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	tmp := so + ".tmp"
	args := []string{"-o", tmp, "-importcfg", linkcfg, "-pluginpath", mainPath, "-buildid=" + buildID(stage, mainPath), "-benchmark=cpu"}
	args = append(args, p.lflags...)
	args = append(args, b.objPath(stage, "."))
	if err := os.MkdirAll(filepath.Dir(so), 0o755); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	out, err := b.tool(ctx, objDir, p.linkEnv, p.link, args...)
	ph.Link = time.Since(t)
	ph.ExternalLink = hostlinkTime(out)
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("link: %w: %s", err, strings.TrimSpace(out))
	}
	if err := os.Rename(tmp, so); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	return nil
}

// compileError is a compile that failed with diagnostics: the user's
// error, not the fast path's; the go command would say the same.
type compileError struct {
	out string
	err error // the compiler's exit
}

func (e *compileError) Error() string { return e.out }
func (e *compileError) Unwrap() error { return e.err }

// compileOne compiles logic package q, staged in stage, to obj.
func (b *Builder) compileOne(ctx context.Context, p *plan, q *logicPkg, stage, importcfg, obj string) error {
	dir := filepath.Join(b.out, "stage", stage, filepath.FromSlash(b.logicRel), filepath.FromSlash(q.rel))
	var files, names []string
	for _, f := range q.files {
		if path.Dir(f) != q.rel || !strings.HasSuffix(f, ".go") {
			continue
		}
		names = append(names, path.Base(f))
		if ok, err := p.bctx.MatchFile(dir, path.Base(f)); err != nil || !ok {
			continue
		}
		rel, _ := filepath.Rel(b.cfg.Dir, filepath.Join(dir, path.Base(f)))
		files = append(files, "./"+filepath.ToSlash(rel))
	}
	if len(files) == 0 {
		return fmt.Errorf("%w: no Go files in %s", errNotCovered, q.rel)
	}
	var embedcfg string
	if q.embed {
		var err error
		if embedcfg, err = embedConfig(&p.bctx, dir, names, obj+"."+buildID(importcfg, "")[:8]+".embedcfg"); err != nil {
			return err
		}
	}
	ip := b.stagedImport(q.rel, stage)
	trim := filepath.Dir(obj) + "=>"
	if p.trimDirs {
		trim = dir + "=>" + ip + ";" + trim
	}
	// Two builds may both find an unchanged package's archive missing
	// (staged by the go command) and compile it: each to a file of its own.
	tmp := obj + "." + buildID(importcfg, "")[:8] + ".tmp" // importcfg is the building stage's
	args := []string{"-o", tmp, "-trimpath", trim, "-p", ip}
	args = append(args, p.cflags...)
	id := buildID(stage, ip)
	args = append(args, "-buildid", id, "-importcfg", importcfg)
	if embedcfg != "" {
		args = append(args, "-embedcfg", embedcfg)
	}
	args = append(args, "-pack")
	args = append(args, files...)
	if err := os.MkdirAll(filepath.Dir(obj), 0o755); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	out, err := b.tool(ctx, b.cfg.Dir, nil, p.compile, args...)
	if err != nil {
		os.Remove(tmp)
		if ctx.Err() == nil && diagLine.MatchString(firstDiag(out)) {
			return &compileError{out: "# " + ip + "\n" + out, err: err}
		}
		return fmt.Errorf("compile %s: %w: %s", ip, err, strings.TrimSpace(out))
	}
	return os.Rename(tmp, obj)
}

func firstDiag(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if diagLine.MatchString(l) {
			return l
		}
	}
	return ""
}

// buildID is a build ID of the form the tools expect (action/content),
// unique per staged package.
func buildID(stage, ip string) string {
	h := sha256.Sum256([]byte(stage + "\x00" + ip))
	s := base64.RawURLEncoding.EncodeToString(h[:15])
	return s + "/" + s
}

// hostlinkRE reads the linker's -benchmark=cpu line for the external link.
var hostlinkRE = regexp.MustCompile(`(?m)^BenchmarkHostlink\s+\d+\s+(\d+) ns/op`)

func hostlinkTime(out string) time.Duration {
	m := hostlinkRE.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return time.Duration(n)
}

// tool runs a Go tool (compile, link) in dir, as the go command would: with
// cgo on and the user's environment.
func (b *Builder) tool(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	return b.command(ctx, dir, append([]string{"CGO_ENABLED=1"}, env...), name, args...)
}

// runOut runs the go command in the module with cgo on and returns its
// standard output alone (stderr on failure).
func (b *Builder) runOut(ctx context.Context, args ...string) (string, error) {
	r, err := command.Run(ctx, b.cfg.Dir, append(slices.Clone(b.cfg.Env), "CGO_ENABLED=1"), b.cfg.Go, args...)
	if err != nil {
		return string(r.Stderr), err
	}
	if len(r.Stdout) == 0 {
		return string(r.Stderr), nil // go build -n writes its script to stderr
	}
	return string(r.Stdout), nil
}
