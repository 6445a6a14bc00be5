// Package tui is hotrun's interactive screen: one view of the event stream.
//
// It owns the terminal while it runs: the header (project, engine state,
// live version, versions loaded, engine memory, when the engine last saved
// its state), the build panel with the compiler's diagnostics and the
// offending source lines (as the builder read them), the probes' answers (what the live version says to
// the project's probe requests, and what it said before), the request log
// (requests and other units of work) and the timeline of everything else
// that happened. The v key shows the supervisor's version list; from it, a
// version's diff against the one before or a marked one, coloured like git
// diff. Options.Big is a presenter layout that gives the probes and the last
// change's diff the screen. Its keys ask a [Controller] to rebuild, restart,
// roll back, go forward, make a version live or produce a diff; the answers
// come back later as events, like everything else.
//
// # Idle costs little
//
// The screen changes only when a message changes it: times are shown as
// times of day and only a running build's spinner ticks, so nothing in this
// package wakes while nothing happens. bubbletea's renderer does: released
// v2.1.1 wakes at the frame rate for the program's whole life and finds
// nothing to draw. Its fix, a renderer that ticks only while there are frames
// to draw, is proposed upstream and not released
// (charmbracelet/bubbletea#1796); hotrun uses the release as it is, so the
// frame rate is chosen for what the screen needs: 20 frames a second, enough
// for the spinner (12 a second) and for a key to be answered within a frame.
// Idle with the screen open, hotrun costs 6 to 11 CPU ticks (10 ms each) in
// 30 s at that rate, against 16 to 28 at bubbletea's default 60 and 0 or 1
// with the patched copy hotrun used to carry (README has each run). When a
// release has the fix, go back to the default rate and measure again.
//
// # What it never does
//
// It never starts builds, engines or loads on its own and never decides
// anything about versions: it only draws the stream and forwards key presses.
// It never works out what the supervisor knows: the engines, their states,
// pids, live and loaded versions are the supervisor's [event.Engines]
// snapshot, and the version list its [event.Versions], each drawn as it
// came; loads, switches, starts and exits are lines on the timeline, never
// counted or matched to guess a state. It reads no file: a diagnostic's
// source line is the one the builder put on the event.
// It never writes to stdout or stderr except through bubbletea, which owns the
// screen; a stray log line would corrupt the display (a crash log is a file,
// below). It holds no package-level mutable state.
//
// # A panic in the screen
//
// A bug in the screen must not take hotrun, and with it the user's engine,
// down; and bubbletea ends the program on any panic it sees. So none reaches
// it: [Model.Update] recovers its own (one record of a batch is skipped, the
// rest applied), [Model.View] draws each part of the screen (header, build
// panel, probe pane, request log, timeline, version list, diff, key help)
// as a section that recovers its own and stands in one line for it, and the
// command that fetches a diff turns a panic off the loop into a message.
// Each panic is written with its stack, and the record or key it came from,
// to a crash log in [Options.CrashDir] (see [WriteCrash]); the part it broke
// is reset, to be filled again by the events that follow, and the timeline
// names the log. View can't change the model: it asks the loop for the
// reset through a re-armed command, as the stream's batches arrive. When
// panics keep coming (a fourth within a minute: a part that breaks again
// after each reset), the screen quits, bubbletea restores the terminal, and
// [Run] returns [ErrCrashed] with the stream unread, for the caller to show
// as plain lines.
//
// # Keeping up with a flood
//
// The stream can carry tens of thousands of requests a second. [Run] starts
// one goroutine that reads [Options.Records] and hands the model one
// [RecordsMsg] per batch (about one a frame, every 50 ms, or sooner when a
// batch is full), through a command that is re-armed after each batch, as in
// bubbletea's examples/realtime. The model keeps requests in a fixed-size ring
// and formats only the lines on screen, so memory stays bounded and a frame
// costs the same whatever the rate. When the screen falls behind, the batcher
// stops reading and the event stream drops requests (never other events), as
// [event.Stream] documents.
package tui
