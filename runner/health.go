package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hotrun-dev/hotrun/event"
)

// Liveness: an engine silent for hungAfter is shown as hung; one hung for
// hangGrace is replaced with its last saved state.
const (
	hungAfter = 3 * time.Second
	hangGrace = 10 * time.Second
)

// Crash policy: replacements are spaced by restartBackoff times the crashes
// in the last minute; at maxCrashes the last good version before the one
// that served is tried; the same death twice in a row at start is not
// retried until a change or R.
const (
	restartBackoff = time.Second
	maxCrashes     = 5
	blameWindow    = 30 * time.Second // a crash this soon after a version went live, a second time, is evidence
)

// health pings, off the loop, every engine it has not heard from since
// it last looked, and acts on their silence.
func (l *loop) health(ctx context.Context, now time.Time) {
	for _, e := range l.engines {
		if e.proc == nil || e.exited || e.state == engDraining {
			continue
		}
		if e == l.serving {
			l.takeListeners(e.proc)
		}
		work := e.proc.work.Load()
		e.quiet, e.worked = work == e.worked, work
		if heard := e.proc.heard.Load(); heard != e.heard {
			// Any line is an answer: an engine busy reporting its
			// requests needs no ping.
			e.heard = heard
			l.answered(ctx, e, now)
			continue
		}
		silent := now.Sub(e.lastAnswer)
		if e.pinging {
			if silent >= hungAfter {
				l.hung(e, silent)
			}
			if e.state == engHung && silent >= hangGrace && e == l.serving && l.standby() == nil {
				l.replace(ctx, l.replacementFor(e), e.build, fmt.Sprintf("pid %d has not answered for %s", e.pid(), silent.Round(time.Second)))
			}
			continue
		}
		e.pinging = true
		proc := e.proc
		l.call(ctx, hungAfter, proc.Ping, func(err error, _ time.Duration) { l.onPong(ctx, e, err) })
	}
}

// replacementFor is the version a replacement of e serves: the one e
// serves, unless it is blamed.
func (l *loop) replacementFor(e *engine) int {
	if v := l.versions[e.live]; v != nil && v.state != event.VersionBlamed {
		return e.live
	}
	return l.lastGood(e.build, e.live)
}

func (l *loop) onPong(ctx context.Context, e *engine, err error) {
	e.pinging = false
	if e.exited {
		return
	}
	if err != nil {
		// The ping waited hungAfter: no need for a pulse to watch it.
		if errors.Is(err, context.DeadlineExceeded) {
			l.hung(e, time.Since(e.lastAnswer))
		}
		return
	}
	// The pong is heard: it must not pass for an answer to the next ping.
	e.heard = e.proc.heard.Load()
	l.answered(ctx, e, time.Now())
}

// hung marks e hung: it has been silent that long.
func (l *loop) hung(e *engine, silent time.Duration) {
	if e.state == engHung {
		return
	}
	e.wasState, e.state, e.doubt = e.state, engHung, true
	l.ev.Publish(event.EngineHung{PID: e.pid(), Since: event.Duration(silent.Round(time.Second))})
}

// answered records that e answered at now: a hung engine is hung no more,
// and one in doubt has its status read again.
func (l *loop) answered(ctx context.Context, e *engine, now time.Time) {
	if e.state == engHung {
		l.warn(fmt.Sprintf("pid %d answers again after %s", e.pid(), now.Sub(e.lastAnswer).Round(time.Second)))
		e.state = e.wasState
	}
	e.lastAnswer = now
	if e.doubt {
		l.refresh(ctx, e)
	}
}

// refresh re-reads what engine e holds: after a doubt the model takes the
// engine's word, never its own guess.
func (l *loop) refresh(ctx context.Context, e *engine) {
	e.doubt = false
	proc := e.proc
	var st Status
	l.call(ctx, callTimeout, func(c context.Context) (err error) {
		st, err = proc.Status(c)
		return err
	}, func(err error, _ time.Duration) {
		if err != nil || e.exited {
			e.doubt = true
			return
		}
		e.loaded, e.live = st.Loaded, st.Live
		for _, n := range st.Loaded {
			if v := l.versions[n]; v != nil && v.state == event.VersionBuilt {
				l.setState(n, event.VersionLoaded, "")
			}
		}
		l.refreshStates()
	})
}

// onExit: engine e's process ended.
func (l *loop) onExit(ctx context.Context, e *engine) {
	if e.exited {
		l.drop(e)
		return
	}
	e.exited = true
	wasServing := e == l.serving
	ev := e.proc.ExitEvent("unexpected exit")
	if e.expectExit {
		ev = e.proc.ExitEvent(e.why)
		l.ev.Publish(ev)
		l.takeListeners(e.proc)
		l.drop(e)
		return
	}
	l.ev.Publish(ev)
	l.takeListeners(e.proc)
	l.drop(e)
	if n := e.loading; n != 0 {
		// A crash while a version loads is that version's.
		l.ev.Publish(event.LoadFail{Version: n, Error: "the engine exited while loading this version",
			Explain: "Something in the new version's initialization ended the process (os.Exit, log.Fatal, a fatal runtime error); hotrun never loads it again."})
		l.blame(n, "the engine died while loading it")
		if !wasServing {
			if l.serving != nil {
				l.warn(fmt.Sprintf("the new engine died loading v%d; pid %d keeps serving v%d", n, l.serving.pid(), l.serving.live))
				return
			}
		}
		l.crashed(ctx, crash{at: time.Now(), version: 0, words: e.proc.LastWords()})
		return
	}
	if !wasServing {
		if l.serving != nil {
			l.warn(fmt.Sprintf("the new engine died before it took over; pid %d keeps serving v%d", l.serving.pid(), l.serving.live))
			return
		}
		l.crashed(ctx, crash{at: time.Now(), version: 0, words: e.proc.LastWords(), early: true, code: ev.Code})
		return
	}
	l.crashed(ctx, crash{
		at:      time.Now(),
		version: e.live,
		outside: outsideSignal(ev.Signal),
		words:   e.proc.LastWords(),
		early:   time.Since(e.servingAt) < time.Second,
		code:    ev.Code,
	})
}

// outsideSignal reports whether a signal that ended an engine came from
// outside (a person, a supervisor, the OOM killer) rather than from the
// program: such a death is no evidence against the version serving.
func outsideSignal(sig string) bool {
	switch sig {
	case "killed", "terminated", "interrupt", "hangup", "quit":
		return true
	}
	return false
}

// startFailed: an engine could not even start (no control socket in time,
// an exit before it).
func (l *loop) startFailed(ctx context.Context, e *engine, err error) {
	words := err.Error()
	var se *StartError
	if errors.As(err, &se) && se.LastWords != "" {
		words = se.LastWords
	}
	if l.serving != nil {
		l.warn(fmt.Sprintf("the new engine did not start (%s); pid %d keeps serving v%d", words, l.serving.pid(), l.serving.live))
		return
	}
	l.ev.Publish(event.Log{Source: event.SourceHotrun, Level: "error", Text: "the engine did not start: " + words})
	l.crashed(ctx, crash{at: time.Now(), version: e.target, words: words, early: true})
}

// crashed applies the crash policy to a death with nothing serving after
// it: blame what the evidence proves, then replace the engine, unless the
// same death repeats.
func (l *loop) crashed(ctx context.Context, c crash) {
	if l.serving != nil || l.standby() != nil {
		return // something serves, or is being readied
	}
	now := c.at
	l.crashes = slices.DeleteFunc(l.crashes, func(x crash) bool { return now.Sub(x.at) > time.Minute })
	if !c.outside && c.version != 0 {
		for _, p := range l.crashes {
			v := l.versions[c.version]
			if p.version == c.version && !p.outside && v != nil && now.Sub(v.liveAt) < blameWindow {
				l.blame(c.version, fmt.Sprintf("the engine crashed twice on it within a minute, the second time %s after it went live", now.Sub(v.liveAt).Round(time.Second)))
				break
			}
		}
	}
	l.crashes = append(l.crashes, c)
	if k := len(l.crashes); k >= 2 {
		a, b := l.crashes[k-2], l.crashes[k-1]
		if a.early && b.early && !a.outside && !b.outside && a.words != "" && a.words == b.words && a.code == b.code {
			l.gaveUp = b.words
			l.crashes = nil
			l.ev.Publish(event.Log{Source: event.SourceHotrun, Level: "error",
				Text: "the engine dies the same way each time it starts: " + b.words + ". Not starting it again until the next change (or R)."})
			return
		}
	}
	b := l.served
	if b == nil {
		b = l.newest
	}
	target := l.replacementFor(&engine{live: c.version, build: b})
	if c.avoid != 0 && target == c.avoid {
		target = l.lastGood(b, c.avoid)
	}
	own := 0
	for _, x := range l.crashes {
		if !x.outside {
			own++
		}
	}
	if own >= maxCrashes {
		// A crash loop: back to the last good version before the one
		// that served, and a clean count.
		target = l.lastGood(b, c.version)
		l.warn(fmt.Sprintf("the engine crashed %d times in a minute; starting it with v%d, the last good version before v%d", own, target, c.version))
		l.crashes = nil
	}
	wait := restartBackoff * time.Duration(len(l.crashes)-1)
	if c.outside {
		wait = 0
	}
	l.retry, l.retryTarget = time.After(wait), target
}

// blame marks version n as the cause of an engine's death: it is never
// loaded again.
func (l *loop) blame(n int, why string) {
	v := l.versions[n]
	if v == nil || v.state == event.VersionBlamed {
		return
	}
	l.setState(n, event.VersionBlamed, why)
	l.ev.Publish(event.Blame{Version: n, Reason: why})
}
