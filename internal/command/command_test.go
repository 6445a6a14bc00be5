package command

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	r, err := Run(context.Background(), dir, []string{"HOTRUN_TEST_X=42"}, "sh", "-c", `echo out $HOTRUN_TEST_X; pwd; echo err >&2`)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.Stdout); !strings.HasPrefix(got, "out 42\n") || !strings.Contains(got, dir) {
		t.Errorf("stdout %q: want the env added and the directory", got)
	}
	if string(r.Stderr) != "err\n" {
		t.Errorf("stderr %q", r.Stderr)
	}
	_, err = Run(context.Background(), dir, nil, "sh", "-c", "exit 3")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("a failing program: %v, want exit status 3", err)
	}
}

// TestRunCanceled: canceling ends the program and its children (the
// process group), at once.
func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, t.TempDir(), nil, "sh", "-c", "sleep 60 & sleep 60")
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a canceled program reported success")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("canceled, the program and its child ran on")
	}
}
