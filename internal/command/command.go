// Package command runs the programs hotrun drives (the go command, the
// compiler and linker, git, a project's generators): one way, for the
// builder, hotrun init, the generate steps and the supervisor alike.
//
// A program runs in a directory, with the process's environment and the
// variables given added after it (so they win), and its standard output and
// standard error are kept apart. Canceling the context ends the program's
// whole process group: the go command's compile and link children too,
// which would otherwise run on and hold the CPU after a newer save made a
// build stale.
package command

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"time"
)

// Result is what a program wrote.
type Result struct {
	Stdout, Stderr []byte
}

// Combined returns what the program wrote to stdout, then to stderr.
func (r Result) Combined() string { return string(r.Stdout) + string(r.Stderr) }

// Run runs name with args in dir, with env added to the environment, and
// returns what it wrote. err is the program's (an *exec.ExitError when it
// failed) or the context's.
func Run(ctx context.Context, dir string, env []string, name string, args ...string) (Result, error) {
	var out, errb bytes.Buffer
	err := run(ctx, dir, env, &out, &errb, name, args)
	return Result{Stdout: out.Bytes(), Stderr: errb.Bytes()}, err
}

// Output is Run with what the program wrote to stdout and stderr in one
// text, interleaved as it wrote it: a compiler's messages in their order.
func Output(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	var out bytes.Buffer
	err := run(ctx, dir, env, &out, &out, name, args)
	return out.String(), err
}

func run(ctx context.Context, dir string, env []string, stdout, stderr *bytes.Buffer, name string, args []string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	killGroup(cmd)
	// A child that holds the output pipes open past the program's end
	// must not hold it up.
	cmd.WaitDelay = 2 * time.Second
	return cmd.Run()
}
