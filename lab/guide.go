package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/internal/paths"
)

// Keys are the keys of the session that a step may ask for (b, R): the
// guide presses them itself when it does the step (`-check`, or `a`).
type Keys interface {
	Rollback()
	Restart()
}

// Config configures a [Guide].
type Config struct {
	Lab *Lab
	Dir string // the lab's project, as [Make] made it
	// Events is the stream the guide passes every event on to, and
	// publishes its own on.
	Events event.Publisher
	// Progress keeps where the learner stands between runs; nil keeps it
	// nowhere.
	Progress *Progress
	// Reference has the guide do every step itself with its reference
	// edits and keys, and say through [Guide.Done] whether every step's
	// events came: `hotrun lab -check`.
	Reference bool
	// Keys returns the session's keys, for the steps that ask for one;
	// it is called when one is pressed (the session starts after the
	// guide).
	Keys func() Keys
	// StepTimeout is how long a step may take when the guide does it; 0
	// means DefaultStepTimeout.
	StepTimeout time.Duration
}

// DefaultStepTimeout is how long `hotrun lab -check` waits for a step's
// events: a -race build of the engine on a busy machine is the slowest.
const DefaultStepTimeout = 5 * time.Minute

// settle is how long hotrun must have been quiet (no change, build, load
// or engine coming and going) before the guide makes the next save of a
// step it does itself: an edit on top of a handover under way would test
// the handover, not the lab.
const settle = 1500 * time.Millisecond

// Guide runs a lab on a hotrun session. It sits on the event stream as
// an [event.Publisher] that wraps the real one, as the prober does: every
// event goes on unchanged, the open step's check reads it, and the guide
// publishes an [event.Lab] whenever the lab's state changes (and an
// [event.Trial] for each experiment). It is safe for use by many
// publishers at once. The screen's keys reach it through Next, Prev and
// Apply. Call Close once the publishers have stopped, before the stream
// closes.
//
// Everything it decides, it decides on one goroutine of its own, which
// Close ends: Publish and the keys only hand it their input.
type Guide struct {
	cfg  Config
	rel  string // cwd, to show the project's files relative to it
	in   chan event.Event
	keys chan string
	// done says, when the guide does the steps itself, whether every
	// step's events came (nil) or why not.
	done chan error

	ctx    context.Context // canceled by Close: trials under way end
	cancel context.CancelFunc
	wg     sync.WaitGroup // the loop and the trials

	mu     sync.RWMutex // guards closed; held for reading while Publish hands an event to the loop
	closed bool
}

// New returns a Guide on cfg.Lab, its loop started. The first step shown
// is the one Progress says the learner stopped at, or the first.
func New(cfg Config) *Guide {
	if cfg.Events == nil {
		cfg.Events = event.Discard
	}
	if cfg.StepTimeout <= 0 {
		cfg.StepTimeout = DefaultStepTimeout
	}
	wd, _ := os.Getwd()
	ctx, cancel := context.WithCancel(context.Background())
	g := &Guide{
		cfg:    cfg,
		rel:    wd,
		in:     make(chan event.Event, 256),
		keys:   make(chan string, 8),
		done:   make(chan error, 1),
		ctx:    ctx,
		cancel: cancel,
	}
	l := &loop{g: g, lab: cfg.Lab, sess: session{dir: cfg.Dir, wd: wd}, passed: make([]bool, len(cfg.Lab.steps)), seen: make([]string, len(cfg.Lab.steps)),
		trials: make(chan trialResult, 1), driving: cfg.Reference}
	start := 0
	if cfg.Progress != nil && !cfg.Reference {
		rec := cfg.Progress.Get(cfg.Lab.Name)
		for _, n := range rec.Passed {
			if n >= 1 && n <= len(l.passed) {
				l.passed[n-1] = true
			}
		}
		if rec.Step >= 1 && rec.Step <= len(l.passed) {
			start = rec.Step - 1
		}
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		l.run(ctx, start)
	}()
	return g
}

// Publish passes e on, then hands it to the guide's loop.
func (g *Guide) Publish(e event.Event) {
	g.cfg.Events.Publish(e)
	if _, ok := e.(event.Request); ok {
		return // no step waits for one, and they come by the thousand
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if !g.closed {
		select {
		case g.in <- e:
		case <-g.ctx.Done():
		}
	}
}

// Next shows the next step (n).
func (g *Guide) Next() { g.key("n") }

// Prev shows the step before (p).
func (g *Guide) Prev() { g.key("p") }

// Apply makes the shown step's reference edits, or presses its key (a):
// the answer, for a learner who is stuck.
func (g *Guide) Apply() { g.key("a") }

func (g *Guide) key(k string) {
	select {
	case g.keys <- k:
	default: // a pile of keys already: one more adds nothing
	}
}

// Done delivers, when the guide does the steps itself (Config.Reference),
// nil once every step's events came, or the reason they did not.
func (g *Guide) Done() <-chan error { return g.done }

// Close stops the guide: its loop and the trials under way end; it
// returns when they have. Call it after the last Publish.
func (g *Guide) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cancel()
	g.wg.Wait()
}

// loop is the guide's state, owned by its one goroutine.
type loop struct {
	g      *Guide
	lab    *Lab
	sess   session
	cur    int    // the step shown, from 0
	passed []bool // the steps done
	seen   []string
	then   *event.LabExplain // the step done last, explained
	chk    check             // the shown step's check; nil once it is done
	status string

	ready    bool      // the engine answered a probe: the session serves
	lastBusy time.Time // the last change, build, load or engine event
	building map[string]bool

	// Doing the step itself: with -check for every step, with a for the
	// one shown.
	driving bool
	applied int  // saves of the step made
	pressed bool // its key pressed
	opened  time.Time
	timer   *time.Timer

	// The step's trial.
	gen       int  // the step's opening, to drop what a trial of an earlier one reports
	preparing bool // its prepare runs
	armed     bool // a save of the logic came: run the trial once it is built
	running   bool
	trials    chan trialResult
}

type trialResult struct {
	gen     int
	prepare bool // the prepare's end, not the run's
	opens   []event.TrialOpen
	err     error
}

func (l *loop) run(ctx context.Context, start int) {
	l.building = map[string]bool{}
	l.timer = time.NewTimer(time.Hour)
	l.timer.Stop()
	defer l.timer.Stop()
	l.open(start, event.LabOpened)
	for {
		select {
		case e := <-l.g.in:
			l.see(e)
		case k := <-l.g.keys:
			l.key(k)
		case r := <-l.trials:
			l.trialDone(r)
		case <-l.timer.C:
			l.drive()
		case <-ctx.Done():
			return
		}
	}
}

// open shows step i and starts checking it.
func (l *loop) open(i int, what string) {
	st := &l.lab.steps[i]
	l.cur, l.status, l.gen = i, "", l.gen+1
	l.applied, l.pressed, l.opened = 0, false, time.Now()
	l.preparing, l.armed, l.running = false, false, false
	l.chk = nil
	if !l.passed[i] {
		l.chk = st.expect()
	}
	if st.trial != nil && st.trial.prepare != nil && !l.passed[i] {
		l.preparing = true
		l.status = "preparing the experiment: building the logic the plain way, as it is now…"
		l.startTrial(st.trial, true)
	}
	l.save()
	l.publish(what)
	l.arm()
}

func (l *loop) see(e event.Event) {
	done := l.chk != nil && l.chk.see(&l.sess, e)
	l.sess.observe(e)
	now := time.Now()
	switch e := e.(type) {
	case event.Probe:
		l.ready = true
	case event.Change:
		l.lastBusy = now
		if e.Kind == event.KindLogic || e.Kind == event.KindHost {
			l.armed = true
		}
	case event.BuildStart:
		l.lastBusy = now
		l.building[e.Target+fmt.Sprint(e.Version)] = true
	case event.BuildOK:
		l.lastBusy = now
		delete(l.building, e.Target+fmt.Sprint(e.Version))
		if e.Target == event.TargetLogic && !done {
			l.maybeTry()
		}
	case event.BuildFail:
		l.lastBusy = now
		delete(l.building, e.Target+fmt.Sprint(e.Version))
		if !done {
			why := firstLine(e.Error)
			if len(e.Diagnostics) > 0 {
				why = oneLine(e.Diagnostics[0].String())
			}
			l.say(fmt.Sprintf("%s's build failed: %s. The version before keeps serving; fix it and save.", event.TargetLabel(e.Target, e.Version), why))
		}
	case event.BuildCanceled:
		delete(l.building, e.Target+fmt.Sprint(e.Version))
	case event.LoadFail:
		l.lastBusy = now
		if !done {
			why := e.Explain
			if why == "" {
				why = firstLine(e.Error)
			}
			l.say(fmt.Sprintf("v%d was refused: %s", e.Version, why))
		}
	case event.LoadOK, event.EngineStart, event.EngineExit, event.EngineRestart, event.Rollback, event.StateRestored:
		l.lastBusy = now
	}
	if done {
		l.stepDone()
	}
}

// stepDone marks the shown step done, explains it, and opens the next
// one not done.
func (l *loop) stepDone() {
	i := l.cur
	l.passed[i], l.seen[i], l.chk = true, l.chk.seen(), nil
	l.then = l.explain(i)
	if !l.g.cfg.Reference {
		l.driving = false
	}
	next := -1
	for k := 1; k <= len(l.passed); k++ {
		if j := (i + k) % len(l.passed); !l.passed[j] {
			next = j
			break
		}
	}
	if next < 0 {
		l.status = ""
		l.save()
		l.publish(event.LabComplete)
		if l.g.cfg.Reference {
			l.finish(nil)
		}
		return
	}
	l.open(next, event.LabDone)
}

func (l *loop) explain(i int) *event.LabExplain {
	st := &l.lab.steps[i]
	return &event.LabExplain{Step: i + 1, Title: st.title, Seen: l.seen[i], Did: st.did, Rule: st.rule, Link: st.link}
}

func (l *loop) key(k string) {
	switch k {
	case "n":
		if l.cur+1 < len(l.lab.steps) {
			l.open(l.cur+1, event.LabOpened)
		}
	case "p":
		if l.cur > 0 {
			l.open(l.cur-1, event.LabOpened)
		}
	case "a":
		if l.passed[l.cur] {
			return
		}
		l.driving = true
		l.say("doing this step for you: its reference edits, one save at a time")
		l.arm()
	}
}

// drive does the next thing of the step the guide does itself, once
// hotrun has settled: a save, or a key. In -check it also gives up on a
// step whose events do not come.
func (l *loop) drive() {
	if !l.driving || l.chk == nil {
		return
	}
	st := &l.lab.steps[l.cur]
	if l.g.cfg.Reference && time.Since(l.opened) > l.g.cfg.StepTimeout {
		l.finish(fmt.Errorf("lab %s: step %d (%s): its events did not come within %s; the last the lab said: %s",
			l.lab.Name, l.cur+1, st.title, l.g.cfg.StepTimeout, orNothing(l.status)))
		return
	}
	defer l.arm()
	if !l.ready || l.preparing || l.running || len(l.building) > 0 || time.Since(l.lastBusy) < settle {
		return
	}
	switch {
	case l.applied < len(st.saves):
		save := st.saves[l.applied]
		l.applied++
		l.lastBusy = time.Now()
		if err := l.write(save); err != nil {
			if l.g.cfg.Reference {
				l.finish(fmt.Errorf("lab %s: step %d (%s): %w", l.lab.Name, l.cur+1, st.title, err))
				return
			}
			l.say("the reference edit does not fit the file as it is now: " + err.Error())
			l.driving = false
			return
		}
		l.say("saved the reference edit of " + filesOf(save))
	case st.key != "" && !l.pressed:
		l.pressed = true
		l.lastBusy = time.Now()
		if l.g.cfg.Keys != nil {
			if k := l.g.cfg.Keys(); k != nil {
				switch st.key {
				case keyRollback:
					k.Rollback()
				case keyRestart:
					k.Restart()
				}
			}
		}
		l.say("pressed " + st.key)
	}
}

// arm wakes drive later while the guide does a step: no timer runs
// otherwise, so a learner's idle session wakes nothing.
func (l *loop) arm() {
	if l.driving && l.chk != nil {
		l.timer.Reset(250 * time.Millisecond)
	}
}

func (l *loop) finish(err error) {
	l.driving = false
	select {
	case l.g.done <- err:
	default:
	}
}

// write makes one save: the edits, each file written once.
func (l *loop) write(save []edit) error {
	texts := map[string]string{}
	var order []string
	for _, e := range save {
		text, ok := texts[e.file]
		if !ok {
			b, err := os.ReadFile(filepath.Join(l.g.cfg.Dir, filepath.FromSlash(e.file)))
			if err != nil && e.old != "" {
				return fmt.Errorf("lab: %w", err)
			}
			text = string(b)
			order = append(order, e.file)
		}
		next, err := e.apply(text)
		if err != nil {
			return err
		}
		texts[e.file] = next
	}
	for _, f := range order {
		p := filepath.Join(l.g.cfg.Dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
		if err := os.WriteFile(p, []byte(texts[f]), 0o644); err != nil {
			return fmt.Errorf("lab: %w", err)
		}
	}
	return nil
}

func filesOf(save []edit) string {
	var fs []string
	for _, e := range save {
		if !slices.Contains(fs, e.file) {
			fs = append(fs, e.file)
		}
	}
	return strings.Join(fs, " and ")
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// maybeTry runs the step's trial once hotrun built a save of the logic.
func (l *loop) maybeTry() {
	st := &l.lab.steps[l.cur]
	if st.trial == nil || l.passed[l.cur] || !l.armed || l.running || l.preparing {
		return
	}
	l.armed, l.running = false, true
	l.say("running the experiment: " + st.trial.what + "…")
	l.startTrial(st.trial, false)
}

// startTrial runs the trial's prepare or run on a goroutine of its own,
// which reports to the loop.
func (l *loop) startTrial(t *trial, prepare bool) {
	g, gen := l.g, l.gen
	b := &bench{dir: g.cfg.Dir, out: filepath.Join(g.cfg.Dir, ".hotrun", "lab")}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		r := trialResult{gen: gen, prepare: prepare}
		if r.err = b.ensureOut(); r.err == nil {
			if prepare {
				r.err = t.prepare(g.ctx, b)
			} else {
				r.opens, r.err = t.run(g.ctx, b)
			}
		}
		select {
		case l.trials <- r:
		case <-g.ctx.Done():
		}
	}()
}

func (l *loop) trialDone(r trialResult) {
	if r.gen != l.gen {
		return // a trial of a step no longer shown
	}
	st := &l.lab.steps[l.cur]
	if r.prepare {
		l.preparing = false
		if r.err != nil {
			l.say("the experiment could not be prepared: " + firstLine(r.err.Error()))
			return
		}
		l.say("the experiment is ready: make the step's edit and save")
		if l.armed {
			l.maybeTry() // a save came while it prepared
		}
		l.arm()
		return
	}
	l.running = false
	t := event.Trial{Lab: l.lab.Name, What: st.trial.what, Opens: r.opens}
	if r.err != nil {
		t.Error = r.err.Error()
	}
	l.g.cfg.Events.Publish(t)
	l.see(t)
	if l.gen != r.gen {
		return // the step is done, and the next one open
	}
	if l.chk != nil {
		if t.Error != "" {
			l.say("the experiment could not be carried out: " + firstLine(t.Error))
		} else {
			l.say("the experiment did not show what this step is about (was the save the step's edit?): save again to run it again")
		}
	}
	l.arm()
}

// say sets the status line of the shown step and publishes it.
func (l *loop) say(s string) {
	l.status = s
	l.publish(event.LabStatus)
}

// publish publishes where the lab stands.
func (l *loop) publish(what string) {
	st := &l.lab.steps[l.cur]
	e := event.Lab{What: what, Lab: l.lab.Name, Limit: l.lab.Limit, Steps: len(l.lab.steps), Step: l.cur + 1,
		Title: st.title, Goal: st.goal, Status: l.status, Then: l.then}
	for i, ok := range l.passed {
		if ok {
			e.Passed = append(e.Passed, i+1)
		}
	}
	e.Complete = len(e.Passed) == len(l.passed)
	if l.passed[l.cur] && what != event.LabDone {
		e.Then = l.explain(l.cur) // a done step shown again: its own
	}
	if st.file != "" {
		p := filepath.Join(l.g.cfg.Dir, filepath.FromSlash(st.file))
		e.File, e.Line = l.display(p), lineOf(p, st.at)
	}
	l.g.cfg.Events.Publish(e)
}

// display names a file of the project as the learner can open it:
// relative to where hotrun runs when it lies inside it.
func (l *loop) display(p string) string {
	if rel, ok := paths.Within(l.g.rel, p); ok {
		return rel
	}
	return p
}

// lineOf returns the number of the first line of the file at p that
// holds at, or 0.
func lineOf(p, at string) int {
	if at == "" {
		return 0
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, at) {
			return i + 1
		}
	}
	return 0
}

// save keeps where the learner stands.
func (l *loop) save() {
	p := l.g.cfg.Progress
	if p == nil || l.g.cfg.Reference {
		return
	}
	rec := Record{Dir: l.g.cfg.Dir, Step: l.cur + 1}
	for i, ok := range l.passed {
		if ok {
			rec.Passed = append(rec.Passed, i+1)
		}
	}
	// A progress file that can't be written loses the place, not the lab.
	_ = p.Put(l.lab.Name, rec)
}
