package builder

import (
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestShellFields(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{`a b  c`, []string{"a", "b", "c"}},
		{`-trimpath "$WORK/b001=>" -p x`, []string{"-trimpath", "$WORK/b001=>", "-p", "x"}},
		{`GOROOT='/usr/local/go' /x/link -o a.out.so`, []string{"GOROOT=/usr/local/go", "/x/link", "-o", "a.out.so"}},
		{`GOROOT='' link`, []string{"GOROOT=", "link"}},
		{`"-ldflags=\"-s -w\""`, []string{`-ldflags="-s -w"`}},
	} {
		if got := shellFields(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("shellFields(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// nOutput is the part of "go build -n -buildmode=plugin" output the plan
// reads (go1.26, -trimpath).
const nOutput = `/go/pkg/tool/linux_amd64/compile -o $WORK/b002/_pkg_.a -trimpath "$WORK/b002=>" -p m/logic/util -lang=go1.26 -complete -installsuffix dynlink -buildid X/X -goversion go1.26.8 -c=2 -dynlink -nolocalimports -importcfg $WORK/b002/importcfg -pack ./logic/util/util.go
/go/pkg/tool/linux_amd64/compile -o $WORK/b001/_pkg_.a -trimpath "/m/logic=>m/logic;$WORK/b001=>" -p m/logic -lang=go1.26 -complete -installsuffix dynlink -buildid Y/Y -goversion go1.26.8 -c=2 -dynlink -nolocalimports -importcfg $WORK/b001/importcfg -pack ./logic/main.go
modinfo "0w\xaf\f\x92t\b\x02A\xe1\xc1\a\xe6\xd6\x18\xe6path\tm/logic\nmod\tm\t(devel)\t\nbuild\t-buildmode=plugin\nbuild\t-trimpath=true\nbuild\tGOARCH=amd64\nbuild\tGOOS=linux\n\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"
GOROOT='' /go/pkg/tool/linux_amd64/link -o a.out.so -importcfg $WORK/b001/importcfg.link -installsuffix dynlink -pluginpath m/logic -buildmode=plugin -buildid=A/B/B/A -s -w -extldflags=-fuse-ld=mold -extld=gcc $WORK/b001/_pkg_.a
`

func TestParseCommands(t *testing.T) {
	var p plan
	if err := p.parseCommands(nOutput, "m/logic"); err != nil {
		t.Fatal(err)
	}
	if p.compile != "/go/pkg/tool/linux_amd64/compile" || p.link != "/go/pkg/tool/linux_amd64/link" {
		t.Errorf("tools %q, %q", p.compile, p.link)
	}
	if want := "-lang=go1.26 -complete -installsuffix dynlink -goversion go1.26.8 -c=2 -dynlink -nolocalimports"; strings.Join(p.cflags, " ") != want {
		t.Errorf("compile flags %q, want %q", p.cflags, want)
	}
	if !p.trimDirs {
		t.Error("-trimpath with a directory rewrite not seen")
	}
	if want := "-installsuffix dynlink -buildmode=plugin -s -w -extldflags=-fuse-ld=mold -extld=gcc"; strings.Join(p.lflags, " ") != want {
		t.Errorf("link flags %q, want %q", p.lflags, want)
	}
	if !slices.Equal(p.linkEnv, []string{"GOROOT="}) {
		t.Errorf("link env %q", p.linkEnv)
	}
	if !strings.Contains(p.modinfo, "path\tm/logic\n") || p.bctx.GOOS != "linux" || p.bctx.GOARCH != "amd64" {
		t.Errorf("modinfo %q, GOOS %s, GOARCH %s", p.modinfo, p.bctx.GOOS, p.bctx.GOARCH)
	}
	// A profile in the go command's work directory is not the fast path's.
	pgo := strings.Replace(nOutput, "-c=2 -dynlink -nolocalimports -importcfg $WORK/b001", "-c=2 -pgoprofile=$WORK/b001/pgo -dynlink -nolocalimports -importcfg $WORK/b001", 1)
	if err := new(plan).parseCommands(pgo, "m/logic"); !errors.Is(err, errNotCovered) {
		t.Errorf("with -pgoprofile in $WORK: err = %v, want errNotCovered", err)
	}
}

// TestCCShim: the linker's flag probes reach the real C compiler once per
// question, and their answer (exit code and output) is replayed after;
// everything else reaches it every time.
func TestCCShim(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a shell script")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "calls")
	fake := filepath.Join(dir, "fakecc")
	// The fake compiler refuses -bad with a message, accepts the rest.
	write(t, fake, "#!/bin/sh\necho \"$*\" >> "+log+"\ncase \"$*\" in *-bad*) echo 'unrecognized option -bad'; exit 1;; esac\nexit 0\n")
	if err := os.Chmod(fake, 0o755); err != nil {
		t.Fatal(err)
	}
	flags, err := shimExtld([]string{"-s", "-extld=" + fake}, filepath.Join(dir, "cc"))
	if err != nil {
		t.Fatal(err)
	}
	shim := strings.TrimPrefix(flags[1], "-extld=")
	if shim == fake {
		t.Fatal("-extld not replaced")
	}
	run := func(args ...string) (string, int) {
		out, err := exec.Command(shim, args...).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	for i, tmp := range []string{"/tmp/go-link-1", "/tmp/go-link-2"} {
		if out, rc := run("-m64", "-o", tmp+"/a.out", "-Wl,--build-id", tmp+"/trivial.c"); rc != 0 || out != "" {
			t.Errorf("probe %d: rc %d, out %q", i, rc, out)
		}
		if out, rc := run("-m64", "-o", tmp+"/a.out", "-bad", tmp+"/trivial.c"); rc != 1 || !strings.Contains(out, "unrecognized") {
			t.Errorf("refused probe %d: rc %d, out %q", i, rc, out)
		}
		if _, rc := run("-shared", "-o", "x.so", "go.o"); rc != 0 {
			t.Errorf("link %d: rc %d", i, rc)
		}
	}
	calls, _ := os.ReadFile(log)
	if n := strings.Count(string(calls), "trivial.c"); n != 2 {
		t.Errorf("the real compiler saw %d probes, want 2 (one per question):\n%s", n, calls)
	}
	if n := strings.Count(string(calls), "go.o"); n != 2 {
		t.Errorf("the real compiler saw %d links, want 2:\n%s", n, calls)
	}
}

// TestScanNonGo: a package whose own directory holds a source the go
// command compiles beside Go (assembly here) is marked for the go command;
// one with only Go and data files, or whose assembly lies in a directory
// starting with _, is not.
func TestScanNonGo(t *testing.T) {
	dir := t.TempDir()
	for f, src := range map[string]string{
		"main.go":         "package main\n",
		"page.html":       "<p>x</p>\n",
		"asm/asm.go":      "package asm\n",
		"asm/add_amd64.s": "TEXT ·add(SB),0,$0\n",
		"plain/plain.go":  "package plain\n",
		"plain/_old/x.s":  "TEXT ·x(SB),0,$0\n",
		"plain/notes.txt": "notes\n",
	} {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, p, src)
	}
	b := &Builder{logicDir: dir, logicPath: "example.com/app/logic"}
	pkgs, err := b.scanLogic()
	if err != nil {
		t.Fatal(err)
	}
	nonGo := map[string]bool{}
	for _, p := range pkgs {
		nonGo[p.rel] = p.nonGo
	}
	if want := map[string]bool{".": false, "asm": true, "plain": false}; !maps.Equal(nonGo, want) {
		t.Errorf("nonGo by package = %v, want %v", nonGo, want)
	}
}
