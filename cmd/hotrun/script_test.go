package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the scripts run hotrun as a command: testscript installs
// this test binary as "hotrun" on PATH, and main runs when it is called by
// that name.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"hotrun": main})
}

// TestScript runs testdata/script/*.txtar: hotrun used as a user runs it,
// from `hotrun init` to a live edit. The scripts that build and run an
// engine start with `[short] skip`. (The labs are checked by TestLabCheck,
// as `hotrun lab -check` does.)
//
// Commands beyond testscript's own (see scriptCmds): freeaddr, get,
// waitfor, waitevent, edit, copyexample, copyrepo.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:   "testdata/script",
		Setup: scriptSetup,
		Cmds:  scriptCmds,
	})
}

// goEnv is the go command's settings that the scripts' go commands need:
// testscript empties HOME, which hides the user's go env file and cache.
var goEnv = sync.OnceValues(func() (map[string]string, error) {
	out, err := exec.Command("go", "env", "-json", "GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w", err)
	}
	m := make(map[string]string)
	return m, json.Unmarshal(out, &m)
})

func scriptSetup(env *testscript.Env) error {
	repo, err := filepath.Abs("../..")
	if err != nil {
		return err
	}
	ge, err := goEnv()
	if err != nil {
		return err
	}
	for k, v := range ge {
		env.Setenv(k, v)
	}
	env.Setenv("GOTOOLCHAIN", "local")
	env.Setenv("GOPROXY", "off") // everything comes from the checkout or the module cache
	env.Setenv("CGO_ENABLED", "1")
	env.Setenv("REPO", repo)
	// hotrun init points the new module's replace directive here.
	env.Setenv("HOTRUN_SRC", repo)
	env.Values[cursorsKey{}] = make(map[string]int64)
	return nil
}

var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"freeaddr":    cmdFreeAddr,
	"get":         cmdGet,
	"waitfor":     cmdWaitFor,
	"waitevent":   cmdWaitEvent,
	"edit":        cmdEdit,
	"copyexample": cmdCopyExample,
	"copyrepo":    cmdCopyRepo,
}

// freeaddr NAME sets $NAME to a free TCP address on 127.0.0.1.
func cmdFreeAddr(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeaddr NAME")
	}
	addr, err := unusedAddr()
	ts.Check(err)
	ts.Setenv(args[0], addr)
}

// get URL writes the body of a GET of URL to stdout and its status code to
// stderr.
func cmdGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: get URL")
	}
	code, body, err := httpGet(args[0])
	ts.Check(err)
	fmt.Fprint(ts.Stdout(), body)
	fmt.Fprintf(ts.Stderr(), "%d\n", code)
}

func httpGet(url string) (int, string, error) {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitfor [-timeout d] URL REGEXP asks for URL until a body matches REGEXP
// (any status), and writes that body to stdout.
func cmdWaitFor(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("waitfor", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 3*time.Minute, "give up after `d`")
	if err := fs.Parse(args); err != nil || neg || fs.NArg() != 2 {
		ts.Fatalf("usage: waitfor [-timeout d] URL REGEXP")
	}
	url := fs.Arg(0)
	re, err := regexp.Compile(fs.Arg(1))
	ts.Check(err)
	deadline := time.Now().Add(*timeout)
	var last string
	for {
		code, body, err := httpGet(url)
		if err == nil && re.MatchString(body) {
			fmt.Fprint(ts.Stdout(), body)
			return
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("%d %q", code, body)
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no answer of %s matched %q within %s; last: %s", url, re, *timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type cursorsKey struct{}

// waitevent [-timeout d] [-set VAR=field]... FILE EVENT [COND]... waits for
// a line of FILE (hotrun -json's output) that is an EVENT and meets every
// COND: field=value, field!=value or field~regexp, where a field's value is
// its JSON text without quotes. It reads on from the line after the one the
// last waitevent on FILE matched, so a script sees events in order. It
// writes the line to stdout and sets $VAR to a field for each -set.
func cmdWaitEvent(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("waitevent", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 3*time.Minute, "give up after `d` (a cold build cache on a busy 2-core machine)")
	var sets []string
	fs.Func("set", "`VAR=field`", func(s string) error { sets = append(sets, s); return nil })
	if err := fs.Parse(args); err != nil || neg || fs.NArg() < 2 {
		ts.Fatalf("usage: waitevent [-timeout d] [-set VAR=field]... FILE EVENT [field=value|field!=value|field~regexp]...")
	}
	file := ts.MkAbs(fs.Arg(0))
	name := fs.Arg(1)
	conds := make([]cond, 0, fs.NArg()-2)
	for _, a := range fs.Args()[2:] {
		c, err := parseCond(a)
		ts.Check(err)
		conds = append(conds, c)
	}
	cursors := ts.Value(cursorsKey{}).(map[string]int64)
	deadline := time.Now().Add(*timeout)
	var seen []string // the events read while waiting, for the failure message
	for {
		fields, line, next, err := scanEvents(file, cursors[file], name, conds, &seen)
		if err != nil && !os.IsNotExist(err) {
			ts.Fatalf("waitevent: %v", err)
		}
		if fields != nil {
			cursors[file] = next
			for _, s := range sets {
				v, f, _ := strings.Cut(s, "=")
				ts.Setenv(v, fields[f])
			}
			fmt.Fprintln(ts.Stdout(), line)
			return
		}
		cursors[file] = next
		if time.Now().After(deadline) {
			ts.Fatalf("no %s event %s in %s within %s; events seen while waiting:\n%s", name, strings.Join(fs.Args()[2:], " "), fs.Arg(0), *timeout, strings.Join(seen, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type cond struct {
	field, op, value string
	re               *regexp.Regexp
}

func parseCond(s string) (cond, error) {
	i := strings.IndexAny(s, "=!~")
	if i <= 0 {
		return cond{}, fmt.Errorf("waitevent: condition %q: want field=value, field!=value or field~regexp", s)
	}
	c := cond{field: s[:i]}
	switch {
	case strings.HasPrefix(s[i:], "!="):
		c.op, c.value = "!=", s[i+2:]
	case s[i] == '=':
		c.op, c.value = "=", s[i+1:]
	case s[i] == '~':
		re, err := regexp.Compile(s[i+1:])
		if err != nil {
			return cond{}, fmt.Errorf("waitevent: %w", err)
		}
		c.op, c.re = "~", re
	default:
		return cond{}, fmt.Errorf("waitevent: condition %q: want field=value, field!=value or field~regexp", s)
	}
	return c, nil
}

func (c cond) ok(fields map[string]string) bool {
	v, has := fields[c.field]
	switch c.op {
	case "=":
		return has && v == c.value
	case "!=":
		return has && v != c.value
	default:
		return has && c.re.MatchString(v)
	}
}

// scanEvents reads the whole lines of file from offset on and returns the
// first that is event name and meets conds, as fields, and the offset after
// it (or after the last whole line read).
func scanEvents(file string, offset int64, name string, conds []cond, seen *[]string) (map[string]string, string, int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, "", offset, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, "", offset, err
	}
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return nil, "", offset, nil // a partial line waits for its end
		}
		offset += int64(len(line))
		line = bytes.TrimSpace(line)
		*seen = append(*seen, string(line))
		fields, err := eventFields(line)
		if err != nil {
			return nil, "", offset, fmt.Errorf("%s: a line that is not an event: %q: %v", file, line, err)
		}
		if fields["event"] != name {
			continue
		}
		match := true
		for _, c := range conds {
			match = match && c.ok(fields)
		}
		if match {
			return fields, string(line), offset, nil
		}
	}
}

// eventFields returns the top-level fields of a JSON event as text:
// strings unquoted, numbers as written, anything else as its JSON.
func eventFields(line []byte) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return nil, err
	}
	fields := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			fields[k] = s
		} else {
			fields[k] = string(v)
		}
	}
	return fields, nil
}

// edit FILE OLD NEW replaces the first OLD in FILE with NEW, as a save from
// an editor; OLD must be there. In OLD and NEW, \n stands for a newline and
// \t for a tab.
func cmdEdit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: edit FILE OLD NEW")
	}
	unescape := strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace
	p := ts.MkAbs(args[0])
	b, err := os.ReadFile(p)
	ts.Check(err)
	old, new := unescape(args[1]), unescape(args[2])
	if !strings.Contains(string(b), old) {
		ts.Fatalf("edit: %s has no %q", args[0], old)
	}
	ts.Check(os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644))
}

// copyexample DIR copies this repository's example module (without hotrun's
// output and the labs) to DIR and points its replace directive at
// this checkout.
func cmdCopyExample(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: copyexample DIR")
	}
	src := filepath.Join(ts.Getenv("REPO"), "example")
	dst := ts.MkAbs(args[0])
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if rel == ".hotrun" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rel == "go.mod" {
			b = regexp.MustCompile(`(?m)^replace (\S+) => .*$`).ReplaceAll(b, []byte("replace $1 => "+filepath.Join(ts.Getenv("REPO"), "hot")))
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	ts.Check(err)
}

// copyrepo DIR DST copies the directory DIR of this repository (a fixture
// such as scaffold/testdata/flat/wshub) to DST.
func cmdCopyRepo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: copyrepo DIR DST")
	}
	src := filepath.Join(ts.Getenv("REPO"), filepath.FromSlash(args[0]))
	ts.Check(os.CopyFS(ts.MkAbs(args[1]), os.DirFS(src)))
}
