package lab

import (
	"regexp"
	"strconv"

	"github.com/hotrun-dev/hotrun/event"
)

// The labs about state and types: what a version keeps, what crosses from
// one version to the next, and what only the engine can hold.

// Text of the example that the reference edits start from.
const (
	importGame = "import (\n\t\"github.com/hotrun-dev/hotrun/example/game\""
	helloBody  = "func (model) Hello(name string, s game.Snapshot) string {\n\treturn greet.Hello(name, modelVersion, modelName, s)\n}"
	logicDecl  = "// Logic is what every logic version exports"
	lastField  = "\toldName    string // the model name before the current one"
	greeting   = "this is golang plugin test!"
)

// setVersion is the edit that makes a new version of the model: the one
// save every lab asks for when any save will do.
func setVersion(from, to string) []edit {
	return []edit{{file: "logic/main.go", old: "modelVersion = " + from, new: "modelVersion = " + to}}
}

func globalVar() *Lab {
	return &Lab{
		Name:  "global-var",
		Limit: "a global variable of the logic starts again in every version",
		steps: []step{{
			title: "A global in the logic",
			goal: "In logic/main.go, count calls in a global of the plugin: declare `var calls int`, " +
				"add `calls++` to Hello and `+ fmt.Sprintf(\", calls=%d\", calls)` to its answer (import \"fmt\"). " +
				"Save: the lab's two probes ask twice.",
			file: "logic/main.go", at: "func (model) Hello",
			saves: [][]edit{{
				{file: "logic/main.go", old: importGame, new: "import (\n\t\"fmt\"\n\n\t\"github.com/hotrun-dev/hotrun/example/game\""},
				{file: "logic/main.go", old: helloBody, new: "// calls is a global of the plugin: every version has its own.\nvar calls int\n\n" +
					"func (model) Hello(name string, s game.Snapshot) string {\n" +
					"\tcalls++ // a lab, not a pattern: racy under concurrent requests\n" +
					"\treturn greet.Hello(name, modelVersion, modelName, s) + fmt.Sprintf(\", calls=%d\", calls)\n}"},
			}},
			expect: func() check {
				return answer(func(p event.Probe) bool { n, ok := number(p.Body, "calls"); return ok && n == 2 })
			},
			did: "hotrun swapped the new version in, and both probes went to it: its calls counted every request it served, 1 then 2.",
			rule: "A package-level variable lives as long as the program that holds it: here, the plugin, loaded once into the engine. " +
				"Every request the version serves sees the count the one before left.",
			link: "https://go.dev/ref/spec#Variable_declarations",
		}, {
			title: "A swap",
			goal:  "Change modelVersion to 1002 and save. Watch calls and visits in the probes' answers.",
			file:  "logic/main.go", at: "modelVersion = ",
			saves: [][]edit{setVersion("1001", "1002")},
			expect: func() check {
				return seq(swap(), answer(func(p event.Probe) bool { n, ok := number(p.Body, "calls"); return ok && n == 1 }))
			},
			did: "The new version is a new plugin with its own calls, which started at zero: its first request said calls=1. " +
				"visits, kept in the engine's state, went on counting. The old version's calls is still in memory, counting nothing: no code of the new version can reach it.",
			rule: "Opening a plugin initializes the packages it brings that the engine doesn't hold, once: a global of the logic is a new variable in every version, " +
				"zero or freshly initialized. hotrun gives every version a new import path (.hotrun/stage/bN), so nothing of the old one carries over.",
			link: "https://pkg.go.dev/plugin",
		}, {
			title: "Keep it in the engine",
			goal: "The fix: state that must outlive a version belongs to the engine. Count with s.Visits, the engine's count that Hello is given " +
				"(game.Snapshot): write `fmt.Sprintf(\", calls=%d\", s.Visits)`. Save: the count goes on across the swap.",
			file: "logic/main.go", at: "calls=%d",
			saves: [][]edit{{{file: "logic/main.go", old: `fmt.Sprintf(", calls=%d", calls)`, new: `fmt.Sprintf(", calls=%d", s.Visits)`}}},
			expect: func() check {
				return seq(swap(), answer(func(p event.Probe) bool {
					c, ok := number(p.Body, "calls")
					v, _ := number(p.Body, "visits")
					return ok && c > 2 && c == v
				}))
			},
			did: "The new version's first answer went on from the count before the swap: visits is the engine's (game.State), which swaps never touch " +
				"and handovers carry as JSON (hot.Config.State).",
			rule: "Keep what must outlive a version in the engine, typed by the shared package, and pass it to the logic. " +
				"To move something from one version to the next on purpose, use the engine's OnSwap(prev, next) hook, like Erlang's code_change.",
			link: "https://pkg.go.dev/github.com/hotrun-dev/hotrun/hot#Config",
		}},
	}
}

func sharedStruct() *Lab {
	return &Lab{
		Name:  "shared-struct",
		Limit: "a change to the shared package can't be swapped: it takes a new engine",
		steps: []step{{
			title: "A new field in the state",
			goal: "In game/game.go, the shared package, give State a new field (`best int`, say) and save. " +
				"Package game is the engine's: watch what hotrun does instead of a swap.",
			file: "game/game.go", at: lastField,
			saves:  [][]edit{{{file: "game/game.go", old: lastField, new: lastField + "\n\tbest       int    // lab: a new field"}}},
			expect: func() check { return seq(handover("game/game.go"), answer(says("visits="))) },
			did: "The change was to a package the engine holds, so hotrun did not build a plugin of it: it built a new engine and the logic against it, " +
				"started the new engine beside the old one, handed it the state (as JSON) and the listening socket, and only then let the old one go. visits went on counting.",
			rule: "A plugin records a hash of every package it links against, and plugin.Open refuses one whose hash differs from the running program's copy " +
				"(\"plugin was built with a different version of package\"); some edits even pass that check and run the old method body. A running program can't take a new version of a package it holds.",
			link: "https://github.com/golang/go/blob/go1.26.8/src/runtime/plugin.go#L54-L59",
		}, {
			title: "Behaviour goes in the logic",
			goal:  "Now change what the answer says in logic/greet/greet.go (the text \"" + greeting + "\", say) and save.",
			file:  "logic/greet/greet.go", at: greeting,
			saves:  [][]edit{{{file: "logic/greet/greet.go", old: greeting, new: "this is the lab speaking!"}}},
			expect: func() check { return seq(swap(), answer(says("version="))) },
			did: "An edit to the logic tree is a swap: hotrun built the new version as a plugin, and the engine that serves loaded it between two requests, " +
				"in the same process, with no handover.",
			rule: "Keep the state's types in the shared package and change them rarely; keep behaviour in the logic, where every save is a swap. " +
				"The engine holds what crosses versions; the plugins hold code.",
			link: "https://pkg.go.dev/plugin",
		}},
	}
}

// noteFrom reads the version that left the memo a probe's answer shows.
var noteFrom = regexp.MustCompile(`\{From:(\d+)\}`)

func typeIdentity() *Lab {
	noteHello := "func (model) Hello(name string, s game.Snapshot) string {\n" +
		"\tprev := game.Memo // a lab, not a pattern: racy under concurrent requests\n" +
		"\t_, same := prev.(note)\n" +
		"\tgame.Memo = note{From: modelVersion}\n" +
		"\treturn greet.Hello(name, modelVersion, modelName, s) + fmt.Sprintf(\", memo=%T %+v, is-a-note=%v\", prev, prev, same)\n}"
	return &Lab{
		Name:  "type-identity",
		Limit: "a type declared in the logic is a new type in every version",
		steps: []step{{
			title: "Somewhere to keep any value",
			goal: "In game/game.go, the shared package, add `var Memo any`: a value the logic leaves for the next request (a lab, not a pattern). " +
				"It is the engine's package, so hotrun starts a new engine for it.",
			file: "game/game.go", at: logicDecl,
			saves:  [][]edit{{{file: "game/game.go", old: logicDecl, new: "// Memo is a value the logic leaves for the next request. Lab only.\nvar Memo any\n\n" + logicDecl}}},
			expect: func() check { return seq(handover("game/game.go"), answer(says("visits="))) },
			did:    "game is held by the engine: hotrun built a new engine with Memo in it and handed over. Every version of the logic now sees the engine's one Memo.",
			rule:   "A package both the engine and a plugin import is linked once, into the engine: the plugin uses the engine's copy, its variables and types included.",
			link:   "https://pkg.go.dev/plugin",
		}, {
			title: "A type of the logic, left in the engine",
			goal: "In logic/main.go, declare `type note struct{ From int }`. In Hello, read `prev := game.Memo`, ask `_, same := prev.(note)`, " +
				"leave `game.Memo = note{From: modelVersion}`, and add `fmt.Sprintf(\", memo=%T %+v, is-a-note=%v\", prev, prev, same)` to the answer (import \"fmt\").",
			file: "logic/main.go", at: "func (model) Hello",
			saves: [][]edit{{
				{file: "logic/main.go", old: importGame, new: "import (\n\t\"fmt\"\n\n\t\"github.com/hotrun-dev/hotrun/example/game\""},
				{file: "logic/main.go", old: helloBody, new: "// note is declared by every version, the same way.\ntype note struct{ From int }\n\n" + noteHello},
			}},
			expect: func() check { return answer(says("is-a-note=true")) },
			did:    "The second probe found the note the first one left, of the same version: the same type, so the assertion held.",
			rule:   "A type assertion x.(T) holds when the dynamic type of x is identical to T.",
			link:   "https://go.dev/ref/spec#Type_assertions",
		}, {
			title: "The same name in the next version",
			goal:  "Change modelVersion to 1002 and save. The new version declares note exactly as the old one did.",
			file:  "logic/main.go", at: "modelVersion = ",
			saves: [][]edit{setVersion("1001", "1002")},
			expect: func() check {
				return seq(swap(), answer(says("memo=main.note", "is-a-note=false")))
			},
			did: "The new version's first request found the note the old version left: it prints as main.note, the same name, and yet the assertion failed. " +
				"The request after it, on a note the new version left, says true again.",
			rule: "A defined type is different from every other type, even one declared the same way under the same name. " +
				"Each version's note is declared in another package (each version has its own import path), so Go sees two types.",
			link: "https://go.dev/ref/spec#Type_identity",
		}, {
			title: "Move the type to the shared package",
			goal: "The fix: a value that crosses versions needs a type the engine holds. Declare `type Note struct{ From int }` in game/game.go " +
				"and use game.Note for note in logic/main.go; save both, then change modelVersion to 1003 and save again.",
			file: "game/game.go", at: "var Memo any",
			saves: [][]edit{{
				{file: "game/game.go", old: "var Memo any\n", new: "var Memo any\n\n// Note is what the logic leaves in Memo: declared here, it is one type in every version.\ntype Note struct{ From int }\n"},
				{file: "logic/main.go", old: "prev.(note)", new: "prev.(game.Note)"},
				{file: "logic/main.go", old: "game.Memo = note{", new: "game.Memo = game.Note{"},
			}, setVersion("1002", "1003")},
			expect: func() check {
				return answer(func(p event.Probe) bool {
					v, _ := number(p.Body, "version")
					m := noteFrom.FindStringSubmatch(p.Body)
					return says("memo=game.Note", "is-a-note=true")(p) && m != nil && m[1] != strconv.Itoa(v)
				})
			},
			did: "Note is declared once, in the engine's package game: every version asks for that one type, so a value one version left is a Note to the next.",
			rule: "Values that cross versions (the state, the interface, anything left in the engine) must have types declared in a package the engine holds. " +
				"The example's Logic interface and Snapshot live in game for this reason.",
			link: "https://github.com/golang/go/issues/44197",
		}},
	}
}

func mainVar() *Lab {
	const motd = "// Motd is the engine's message of the day, a variable of its package main.\nvar Motd = \"welcome\"\n\n"
	return &Lab{
		Name:  "main-var",
		Limit: "the logic can't read a variable of the engine's package main",
		setup: []edit{{file: "engine/main.go", old: "func main() {", new: motd + "func main() {"}},
		steps: []step{{
			title: "Reach into the engine",
			goal: "engine/main.go declares `var Motd = \"welcome\"`. Read it from the logic: in logic/main.go import " +
				"\"github.com/hotrun-dev/hotrun/example/engine\" and add `+ \", motd=\" + engine.Motd` to Hello's answer. Save.",
			file: "logic/main.go", at: "return greet.Hello",
			saves: [][]edit{{
				{file: "logic/main.go", old: importGame, new: "import (\n\t\"github.com/hotrun-dev/hotrun/example/engine\"\n\t\"github.com/hotrun-dev/hotrun/example/game\""},
				{file: "logic/main.go", old: "return greet.Hello(name, modelVersion, modelName, s)", new: "return greet.Hello(name, modelVersion, modelName, s) + \", motd=\" + engine.Motd"},
			}},
			expect: func() check { return buildFails("not an importable package") },
			did:    "hotrun's build of the new version failed at the import, with the go command's words, and the version before kept serving.",
			rule: "A program is made by linking a single, unimported package called main: no package can import one, a plugin's included. " +
				"The engine and each plugin are separate main packages; what they share must live in a package both import.",
			link: "https://go.dev/ref/spec#Program_execution",
		}, {
			title: "Share it through the shared package",
			goal: "The fix: move Motd to game/game.go (`var Motd = \"welcome\"`), and read game.Motd in the logic instead of engine.Motd " +
				"(drop the import of the engine). game is the engine's package: a new engine takes over.",
			file: "game/game.go", at: logicDecl,
			saves: [][]edit{{
				{file: "game/game.go", old: logicDecl, new: "// Motd is the message of the day: the engine's, read by every version.\nvar Motd = \"welcome\"\n\n" + logicDecl},
				{file: "engine/main.go", old: motd, new: ""},
				{file: "logic/main.go", old: "\t\"github.com/hotrun-dev/hotrun/example/engine\"\n", new: ""},
				{file: "logic/main.go", old: "engine.Motd", new: "game.Motd"},
			}},
			expect: func() check { return seq(handover(""), answer(says("motd=welcome"))) },
			did: "game is linked into the engine, and the plugins use the engine's copy: the logic reads the one Motd the engine holds (and could set before Start). " +
				"It took a new engine because game changed.",
			rule: "Put what the logic needs from the engine in the shared package, or pass it in: a field of the state, an argument of the interface's methods. " +
				"Only packages both import are shared.",
			link: "https://pkg.go.dev/plugin",
		}},
	}
}
