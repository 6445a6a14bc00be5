// Package tui is hotrun's interactive screen: one view of the event stream.
//
// It owns the terminal while it runs: the header (project, engine state,
// live version, versions loaded, engine memory, when the engine last saved
// its state), the build panel with the compiler's diagnostics and the
// offending source lines, the probes' answers (what the live version says to
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
// times of day and only a running build's spinner ticks. While nothing
// changes, nothing in this package or in bubbletea wakes: hotrun builds with
// a patched copy of bubbletea v2.1.1 (third_party/bubbletea, PATCHED.md there)
// whose renderer ticks only while there are frames to draw. The first change
// after an idle spell is drawn at once and the changes that follow are drawn
// together at most 60 times a second, bubbletea's default frame rate. Released
// v2.1.1 wakes its renderer at the frame rate for the program's whole life;
// the patch goes when a release has the fix (charmbracelet/bubbletea#1796).
//
// # What it never does
//
// It never starts builds, engines or loads on its own and never decides
// anything about versions: it only draws the stream and forwards key presses.
// It never counts versions: the version list is the supervisor's
// [event.Versions], drawn as it came.
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
// [RecordsMsg] per batch (about one a frame, every 16 ms, or sooner when a
// batch is full), through a command that is re-armed after each batch, as in
// bubbletea's examples/realtime. The model keeps requests in a fixed-size ring
// and formats only the lines on screen, so memory stays bounded and a frame
// costs the same whatever the rate. When the screen falls behind, the batcher
// stops reading and the event stream drops requests (never other events), as
// [event.Stream] documents.
package tui
