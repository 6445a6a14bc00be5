package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hotrun-dev/hotrun/builder"
	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// Engine is one running engine process and hotrun's control connection to
// it. Start one with StartEngine; it ends when the process does.
type Engine struct {
	cmd    *exec.Cmd // nil for an engine hotrun attached to (see AttachEngine)
	pid    int
	dir    string // private 0700 directory holding the control socket
	events event.Publisher

	exited   chan struct{} // closed when the process has been waited for and nothing of it publishes any more
	procDone chan struct{} // closed when the process has been waited for
	state    *os.ProcessState

	connMu sync.Mutex // guards conn, its writes, and nextID
	conn   net.Conn
	nextID int64

	pendMu  sync.Mutex            // guards pending
	pending map[int64]chan answer // replies awaited, by command ID

	lnMu      sync.Mutex          // guards listeners
	listeners map[string]*os.File // sockets the engine handed over, by "network:addr"

	wg  sync.WaitGroup // the output readers
	ctl sync.WaitGroup // the control reader

	words lastWords // the engine's last lines of output, for when it dies

	// heard counts the lines the engine sent (replies and events): a line
	// is an answer, so an engine heard from needs no ping. work counts the
	// requests and units it reported: its state may have changed since.
	heard, work atomic.Int64
}

// EngineConfig says how to start an engine.
type EngineConfig struct {
	Path     string   // the executable
	Args     []string // its arguments
	Dir      string   // its working directory
	BuildDir string   // the only directory it may load plugins from
	Env      []string // added to its environment
	Events   event.Publisher
	// Files are inherited by the engine as descriptors 3, 4, …
	Files []*os.File
}

// ErrEngineExited is returned by commands to an engine that is gone.
var ErrEngineExited = errors.New("runner: the engine exited")

// StartEngine starts the engine, waits until it listens on its control
// socket, and connects. The engine's stdout and stderr become Log events.
func StartEngine(ctx context.Context, cfg EngineConfig) (*Engine, error) {
	dir, err := os.MkdirTemp("", "hotrun-") // MkdirTemp makes it 0700: the socket's only guard on other systems
	if err != nil {
		return nil, fmt.Errorf("runner: control directory: %w", err)
	}
	sock := filepath.Join(dir, controlSock)
	cmd := exec.Command(cfg.Path, cfg.Args...)
	cmd.Dir = cfg.Dir
	cmd.Env = append(os.Environ(), cfg.Env...)
	cmd.Env = append(cmd.Env, protocol.EnvControl+"="+sock, protocol.EnvBuildDir+"="+cfg.BuildDir)
	cmd.ExtraFiles = cfg.Files
	setProcAttr(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("runner: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("runner: %w", err)
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		err = fmt.Errorf("runner: start engine %s: %w", cfg.Path, err)
		cfg.Events.Publish(event.EngineExit{Code: -1, Reason: err.Error()})
		return nil, err
	}
	e := &Engine{
		cmd:       cmd,
		pid:       cmd.Process.Pid,
		dir:       dir,
		events:    cfg.Events,
		exited:    make(chan struct{}),
		pending:   make(map[int64]chan answer),
		listeners: make(map[string]*os.File),
		words:     lastWords{max: 5},
	}
	e.events.Publish(event.EngineStart{PID: cmd.Process.Pid})
	// Whose socket this is: a later hotrun sweeps the directories of
	// engines that are gone, and never one that lives.
	os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(e.pid)+"\n"), 0o600)
	e.wg.Add(2)
	go e.copyLines(stdout, "stdout")
	go e.copyLines(stderr, "stderr")
	connected := make(chan struct{}) // closed when connect has returned: ctl's count is final
	procDone := make(chan struct{})  // closed when the process has been reaped
	e.procDone = procDone
	go func() {
		// Wait only after the pipes are drained: os/exec's rule.
		e.wg.Wait()
		cmd.Wait()
		e.state = cmd.ProcessState
		close(procDone)
		// The control reader publishes too: it must be done before
		// Exited says so, or an event could follow the stream's close.
		<-connected
		e.connMu.Lock()
		if e.conn != nil {
			e.conn.Close()
		}
		e.connMu.Unlock()
		e.ctl.Wait()
		os.RemoveAll(dir) // before Exited: nothing of the engine is left once it says so
		close(e.exited)
		e.failPending()
	}()
	err = e.connect(ctx, sock)
	close(connected)
	if err != nil {
		e.Kill()
		<-e.exited
		reason := "exited as it started"
		if !errors.Is(err, ErrEngineExited) {
			reason = "killed: " + err.Error()
		}
		e.events.Publish(e.ExitEvent(reason))
		return nil, &StartError{Err: err, LastWords: e.LastWords()}
	}
	return e, nil
}

// StartError is an engine that failed to start, with its last words: the
// lines it wrote before it died (a bind error, a log.Fatal).
type StartError struct {
	Err       error
	LastWords string
}

func (e *StartError) Error() string {
	if e.LastWords == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.LastWords
}

func (e *StartError) Unwrap() error { return e.Err }

// LastWords returns the last lines the engine wrote to stdout and stderr,
// joined: what it said before it died.
func (e *Engine) LastWords() string { return e.words.String() }

// PID returns the engine's process ID.
func (e *Engine) PID() int { return e.pid }

// Control returns the path of the engine's control socket.
func (e *Engine) Control() string { return filepath.Join(e.dir, controlSock) }

// Exited is closed when the engine process has ended.
func (e *Engine) Exited() <-chan struct{} { return e.exited }

// KilledFromOutside reports whether a signal from outside the program
// ended the engine (a person, a supervisor, the OOM killer: SIGKILL,
// SIGTERM, SIGINT, SIGHUP, SIGQUIT), rather than the program itself (a
// fatal error, a segfault, os.Exit): such a death is no evidence against
// the version serving; so is the death of an engine hotrun attached to,
// whose end it can't see. Call it after Exited is closed.
func (e *Engine) KilledFromOutside() bool {
	if e.cmd == nil {
		return true // attached, not hotrun's child: how it ended is unknown, so no evidence
	}
	if e.state == nil {
		return false
	}
	ws, ok := e.state.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && outsideSignal(ws.Signal())
}

func outsideSignal(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT:
		return true
	}
	return false
}

// ExitEvent describes how the engine ended. Call it after Exited is closed.
func (e *Engine) ExitEvent(reason string) event.EngineExit {
	if w := e.LastWords(); w != "" && !strings.Contains(reason, w) {
		reason += "; its last words: " + w
	}
	ev := event.EngineExit{PID: e.PID(), Code: -1, Reason: reason}
	if e.state == nil {
		return ev
	}
	ev.Code = e.state.ExitCode()
	if ws, ok := e.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		ev.Signal = ws.Signal().String()
	}
	return ev
}

func (e *Engine) copyLines(r io.Reader, stream string) {
	defer e.wg.Done()
	readLines(r, maxOutputLine, func(line string) {
		e.words.add(line)
		e.events.Publish(event.Log{Source: event.SourceEngine, Stream: stream, Text: line})
	})
}

// maxOutputLine is the longest line of engine output shown whole; a longer
// one is cut, with a marker, and the output goes on.
const maxOutputLine = 64 << 10

// connect dials the control socket until the engine listens, exits, or 60 s
// pass (a cold engine may take a while to start).
func (e *Engine) connect(ctx context.Context, sock string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			e.connMu.Lock()
			e.conn = c
			e.connMu.Unlock()
			e.ctl.Add(1)
			go func() {
				defer e.ctl.Done()
				e.readControl(c.(*net.UnixConn))
			}()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("runner: the engine never listened on its control socket: does it call Start of package hot? (%w)", err)
		}
		select {
		case <-e.procDone:
			return fmt.Errorf("runner: start: %w before it listened on its control socket", ErrEngineExited)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// readControl reads the engine's lines: replies go to the command waiting
// for them, listening sockets are kept, everything else is an event for the
// stream.
func (e *Engine) readControl(c *net.UnixConn) {
	fr := &fdReader{c: c}
	r := bufio.NewReaderSize(fr, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			e.heard.Add(1)
			e.dispatch(line, fr)
		}
		if err != nil {
			fr.closeAll()
			e.failPending()
			return
		}
	}
}

// fdReader reads a Unix connection and keeps, in order, the file
// descriptors that come with the bytes (SCM_RIGHTS): the engine sends each
// with a protocol.Listener line.
type fdReader struct {
	c   *net.UnixConn
	oob [256]byte
	fds []*os.File // received and not yet claimed by a Listener line
}

func (r *fdReader) Read(p []byte) (int, error) {
	n, oobn, _, _, err := r.c.ReadMsgUnix(p, r.oob[:])
	if n < 0 {
		n = 0 // recvmsg's -1 on error; io.Reader promises 0 <= n
	}
	if oobn > 0 {
		if msgs, perr := syscall.ParseSocketControlMessage(r.oob[:oobn]); perr == nil {
			for _, m := range msgs {
				fds, _ := syscall.ParseUnixRights(&m)
				for _, fd := range fds {
					r.fds = append(r.fds, os.NewFile(uintptr(fd), "listener"))
				}
			}
		}
	}
	return n, err
}

func (r *fdReader) next() *os.File {
	if len(r.fds) == 0 {
		return nil
	}
	f := r.fds[0]
	r.fds = r.fds[1:]
	return f
}

func (r *fdReader) closeAll() {
	for _, f := range r.fds {
		f.Close()
	}
	r.fds = nil
}

func (e *Engine) dispatch(line []byte, fr *fdReader) {
	var head struct {
		Reply    *int64 `json:"reply"`
		Listener string `json:"listener"`
	}
	if err := json.Unmarshal(line, &head); err != nil {
		e.events.Publish(event.Log{Source: event.SourceHotrun, Level: "warn", Text: "engine sent a malformed control line: " + err.Error()})
		return
	}
	if head.Listener != "" {
		if f := fr.next(); f != nil {
			e.lnMu.Lock()
			if old := e.listeners[head.Listener]; old != nil {
				old.Close()
			}
			e.listeners[head.Listener] = f
			e.lnMu.Unlock()
		}
		return
	}
	if head.Reply != nil {
		var rep protocol.Reply
		json.Unmarshal(line, &rep)
		e.pendMu.Lock()
		ch := e.pending[rep.Reply]
		delete(e.pending, rep.Reply)
		e.pendMu.Unlock()
		if ch != nil {
			ch <- answer{rep: rep}
		}
		return
	}
	rec, err := event.UnmarshalRecord(line)
	if err != nil {
		e.events.Publish(event.Log{Source: event.SourceHotrun, Level: "warn", Text: "engine sent an unknown event: " + err.Error()})
		return
	}
	if !fromEngine(rec.Event) {
		e.events.Publish(event.Log{Source: event.SourceHotrun, Level: "warn", Text: "engine sent a " + rec.Event.Name() + " event, which only hotrun publishes: ignored"})
		return
	}
	switch rec.Event.(type) {
	case event.Request, event.Unit:
		e.work.Add(1)
	}
	e.events.Publish(unstageEvent(rec.Event))
}

// answer is what a waiting command gets: the engine's reply, or word
// that the engine is gone.
type answer struct {
	rep  protocol.Reply
	gone bool
}

// failPending answers every waiting command: the engine is gone.
func (e *Engine) failPending() {
	e.pendMu.Lock()
	defer e.pendMu.Unlock()
	for id, ch := range e.pending {
		ch <- answer{gone: true}
		delete(e.pending, id)
	}
}

// Ping asks the engine whether it is alive.
func (e *Engine) Ping(ctx context.Context) error {
	return e.do(ctx, protocol.Command{Op: "ping"})
}

// Status is what the engine reports of itself.
type Status struct {
	Live     int      // the version serving, 0 for none
	Loaded   []int    // every version it loaded, ascending
	Paths    []string // the plugin of each version in Loaded
	Newest   int      // the highest version number it was asked to load
	Serving  bool     // it has taken over
	Protocol int      // the control protocol its library speaks
}

// Status asks the engine what it holds. hotrun's picture of an engine is
// what this says, re-read after any doubt.
func (e *Engine) Status(ctx context.Context) (Status, error) {
	rep, err := e.doReply(ctx, protocol.Command{Op: "status"})
	var ce *CommandError
	if errors.As(err, &ce) && ce.Code == protocol.CodeUnknownCommand {
		return Status{}, libraryMismatch("", 0, protocol.LibraryVersion())
	}
	if err != nil {
		return Status{}, err
	}
	if rep.Protocol != protocol.Version {
		return Status{}, libraryMismatch(rep.Library, rep.Protocol, protocol.LibraryVersion())
	}
	return Status{Live: rep.Version, Loaded: rep.Loaded, Paths: rep.Paths, Newest: rep.Newest, Serving: rep.Serving, Protocol: rep.Protocol}, nil
}

// Load tells the engine to load the plugin at path as version n and waits
// for its answer. The engine reports the outcome as an event too.
func (e *Engine) Load(ctx context.Context, n int, path string) error {
	return e.do(ctx, protocol.Command{Op: "load", Version: n, Path: path})
}

// Activate tells the engine to switch to version n, loaded before.
func (e *Engine) Activate(ctx context.Context, n int) error {
	return e.do(ctx, protocol.Command{Op: "activate", Version: n})
}

// CheckState asks a standby engine to decode the state at statePath
// without taking it: whether it can read what the engine serving saved,
// before that one lets go of it. A state it can't read is a
// *CommandError with the code protocol.CodeStateUnreadable.
func (e *Engine) CheckState(ctx context.Context, statePath string) error {
	return e.do(ctx, protocol.Command{Op: "check-state", Path: statePath})
}

// Takeover tells a standby engine to restore the state at statePath ("" for
// none) and start serving. A strict takeover refuses a state the engine
// can't read (protocol.CodeStateUnreadable, and the error's Path says
// where the snapshot is kept); otherwise the engine sets it aside and
// starts fresh.
func (e *Engine) Takeover(ctx context.Context, statePath string, strict bool) error {
	return e.do(ctx, protocol.Command{Op: "takeover", Path: statePath, Strict: strict})
}

// Snapshot tells the engine to save its state to its state file.
func (e *Engine) Snapshot(ctx context.Context) error {
	return e.do(ctx, protocol.Command{Op: "snapshot"})
}

// Listeners returns the listening sockets the engine handed to hotrun, by
// "network:addr", and forgets them: the caller owns them. They outlive the
// engine, so the next engine can inherit them.
func (e *Engine) Listeners() map[string]*os.File {
	e.lnMu.Lock()
	defer e.lnMu.Unlock()
	out := e.listeners
	e.listeners = make(map[string]*os.File)
	return out
}

func (e *Engine) do(ctx context.Context, cmd protocol.Command) error {
	_, err := e.doReply(ctx, cmd)
	return err
}

func (e *Engine) doReply(ctx context.Context, cmd protocol.Command) (protocol.Reply, error) {
	ch := make(chan answer, 1) // buffered: the reader never waits on us
	e.connMu.Lock()
	e.nextID++
	cmd.ID = e.nextID
	e.pendMu.Lock()
	e.pending[cmd.ID] = ch
	e.pendMu.Unlock()
	b, _ := json.Marshal(cmd)
	_, err := e.conn.Write(append(b, '\n'))
	e.connMu.Unlock()
	if err != nil {
		e.pendMu.Lock()
		delete(e.pending, cmd.ID)
		e.pendMu.Unlock()
		return protocol.Reply{}, fmt.Errorf("runner: %s v%d: %w", cmd.Op, cmd.Version, ErrEngineExited)
	}
	select {
	case a := <-ch:
		rep := a.rep
		if a.gone {
			return rep, fmt.Errorf("runner: %s v%d: %w", cmd.Op, cmd.Version, ErrEngineExited)
		}
		if rep.Error != "" {
			return rep, &CommandError{Op: cmd.Op, Version: cmd.Version, Msg: rep.Error, Code: rep.Code, Explain: rep.Explain, Path: rep.Path}
		}
		return rep, nil
	case <-ctx.Done():
		return protocol.Reply{}, ctx.Err()
	}
}

// CommandError is the engine's refusal of a command.
type CommandError struct {
	Op      string
	Version int
	Msg     string // the engine's error
	Code    string // the kind of failure (protocol.Code*), for hotrun to act on
	Explain string // a plain sentence, when the failure is a known one
	Path    string // for a state it can't read: where the snapshot is kept
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("runner: engine refused %s v%d: %s", e.Op, e.Version, e.Msg)
}

// Stop asks the engine to stop over the control socket: it stops accepting,
// lets the requests under way finish for up to drain (then cuts them, each
// an event), saves its state and exits. An engine that is not gone within
// drain and save more gets SIGTERM, then SIGKILL. Stop returns when the
// process is gone, with the error of the state save, if any.
func (e *Engine) Stop(drain, save time.Duration) error {
	grace := drain + save
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := e.do(ctx, protocol.Command{Op: "stop", Grace: protocol.Duration(drain)})
	if errors.Is(err, ErrEngineExited) || errors.Is(err, context.DeadlineExceeded) {
		err = nil // gone, or deaf: nothing more to save
	}
	select {
	case <-e.exited:
		return err
	case <-time.After(grace):
	}
	e.Terminate(save)
	return err
}

// Terminate sends SIGTERM to the engine's process group, waits up to grace,
// then kills it. It returns when the process is gone.
func (e *Engine) Terminate(grace time.Duration) {
	e.connMu.Lock()
	if e.conn != nil {
		e.conn.Close()
	}
	e.connMu.Unlock()
	signalGroup(e.pid, syscall.SIGTERM)
	select {
	case <-e.exited:
		return
	case <-time.After(grace):
	}
	e.Kill()
	<-e.exited
}

// Kill kills the engine's process group at once.
func (e *Engine) Kill() {
	signalGroup(e.pid, syscall.SIGKILL)
}

// RSS returns the engine's resident memory in bytes (Linux only; 0
// elsewhere or when it can't be read).
func (e *Engine) RSS() int64 { return RSS(e.PID()) }

// RSS returns the resident memory of process pid in bytes, from
// /proc/PID/statm (Linux only; 0 elsewhere or when it can't be read).
func RSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// fromEngine reports whether an engine may send e: the control protocol's
// events, the only ones the engine library writes. The supervisor's own
// (the engines, the version list, a blame, an exit) have one owner, the
// model: the screen and the probes believe them, so a line that claims one
// is not passed on.
func fromEngine(e event.Event) bool {
	return reflect.TypeOf(e).PkgPath() == reflect.TypeFor[protocol.LoadOK]().PkgPath()
}

// unstageEvent names the user's files, not hotrun's staging copies, in
// what the engine reports: where a panic happened, why a load failed.
func unstageEvent(e event.Event) event.Event {
	switch ev := e.(type) {
	case event.Panic:
		ev.Where = builder.Unstage(ev.Where)
		ev.Value = builder.Unstage(ev.Value)
		return ev
	case event.LoadFail:
		ev.Error = builder.Unstage(ev.Error)
		return ev
	}
	return e
}
