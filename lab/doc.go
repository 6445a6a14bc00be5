// Package lab teaches the limits of Go plugins hands-on: `hotrun lab`.
//
// A [Lab] is one limit (a global of the plugin starts again in every
// version, a type declared in it is a new type each time, a change to the
// shared package takes a new engine, …) met in two to four steps on a copy
// of hotrun's example. Each step says what to do and where (a file and a
// line), and ends with the fix or the rule that avoids the limit.
//
// # What it owns
//
//   - The labs: their steps, the reference edits that do each step (what
//     `hotrun lab -check` makes, and `a` in the screen), the check of each
//     step, and what each step teaches: what hotrun did and the Go rule
//     behind it, with the Go issue or document that says so.
//   - The lab's project ([Make]): a copy of the example made from files
//     hotrun carries (example.txtar, the repository's example/), so that a
//     hotrun installed with `go install` has it, with a go.mod that finds
//     the engine library (module.go, the one place that decides how).
//   - The [Guide], which runs a lab on a hotrun session. It sits on the
//     event stream as the prober does, and checks each step from hotrun's
//     own events, never from the file's text: a handover happened, a load
//     was refused for this reason, the global started again, the panic was
//     contained. When the step's events came, it publishes an [event.Lab]
//     that explains the step and opens the next one.
//   - Trials (trial.go): for the limits hotrun itself never meets (a
//     plugin built with other flags, a plugin path opened twice, …), the
//     guide builds the logic the plain way beside hotrun and opens it in a
//     small program of the project's, and publishes what plugin.Open
//     returned as an [event.Trial]; the step is checked from that.
//   - [Progress]: where the learner stands in each lab, kept between runs
//     in the user's config directory.
//
// # What it never does
//
// It never writes outside the lab's project (and its progress file), and
// only into a directory it made. It never draws or prints: the screen's
// lab pane and the plain and JSON lines show its events. It never decides
// anything about versions or engines: it makes edits and presses the keys
// a learner would, and reads what hotrun did.
package lab
