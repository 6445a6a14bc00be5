// Package runner is hotrun's supervisor: it builds the user's engine and
// logic with the builder, starts engines and steers them over a private
// control socket, and turns every change the watcher reports into a new
// version swapped into the serving engine — or, when the change touches a
// package the engine holds, into a new engine that takes over only once it
// is ready.
//
// # Decisions are a model
//
// The supervisor's decisions live in one value, the model (model.go and
// decide_*.go): the engines (starting, standby, serving, draining, hung)
// and the versions (building, built, loaded, live, rejected, failed,
// blamed, gone; and suspect), the build under way, the recent crashes.
// Its shape is bubbletea's and Elm's: update takes one input (a change, a
// build's end, an engine's answer or its death, a pulse, a key) with the
// time it happened, changes the model, and returns the actions to carry
// out (start an engine, load a version, snapshot, drain, publish an
// event, arm a timer). It starts no goroutine, reads no file and no clock:
// its tests (model_test.go) play whole sequences of inputs without a
// process.
//
// The loop (loop.go) is the edge: one goroutine that owns the model and
// the processes, turns what happens into inputs and carries the actions
// out. Every call to an engine and every build runs on a goroutine of its
// own with a deadline and posts its result back as an input, so the loop
// never waits on an engine: changes, builds, keys and the screen go on
// whatever an engine does. What the model says an engine holds is what
// that engine last reported, re-read after any doubt (a call past its
// deadline, a silence).
//
// # What a version is made of
//
// The runner reads nothing of the logic tree. The watcher's Change carries
// the digest of each file it read to tell that the content changed; a
// build returns what it staged (each file, its digest and its content).
// A version's diff and line counts are made of exactly what its build
// staged, so a save during a build shows in the next version, never in
// that one. The model compares digests: a build started on the first
// event of a burst (speculative) is the burst's build when it staged each
// file as the watcher read it at the burst's end (it reports what it
// staged before it compiles, and a change that comes first waits for
// that); a change after which the tree is, digest for digest, what the
// last version was built from builds nothing.
//
// # Rules
//
//   - Blue/green: a new engine (a host change, a restart, a recycle, a crash
//     or hang replacement) is started beside the serving one and loads and
//     checks its version without traffic. Then the serving one saves its
//     state, the new one decodes it without taking it, and only when it can
//     does the serving one drain and hand over its final state and the
//     listening sockets. Any failure before that leaves the old one
//     serving; a state the new engine can't read is said in one sentence
//     (the type and the field) and never given up.
//   - A drain is short and told: requests still under way after the drain
//     grace (Config.Drain) are cut, each an event; nobody else waits for
//     them.
//   - Liveness: every engine is pinged; one that stops answering is shown as
//     hung and, after a grace period, replaced with its last saved state.
//   - Blame only what is proven: a crash while a version loads is that
//     version's; a version live when its engine died on its own (never by
//     a signal from outside) is suspect, and a suspect is never fallen
//     back to while a version no engine died on can serve; a second such
//     death blames it.
//   - One hotrun per project: a lock in .hotrun; the state snapshot in
//     .hotrun/state outlives the session, and the next one restores it.
//
// The engine side, the library the user's engine imports, is the module
// github.com/hotrun-dev/hotrun/hot. This package never prints (everything
// it does is an event) and never draws.
package runner
