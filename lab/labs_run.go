package lab

import (
	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// The labs about running code: a panic, a goroutine a version started,
// the memory of every version loaded.

func panicLab() *Lab {
	const greetReturn = "\treturn fmt.Sprintf("
	const initPanic = "func init() { panic(\"lab: init\") }\n\n"
	return &Lab{
		Name:   "panic",
		Limit:  "a panic in the new version: what recovers it, and what doesn't",
		probes: []string{"GET /hello?name=test", "GET /hello?name=panic"},
		steps: []step{{
			title: "A panic in a handler",
			goal: "In logic/greet/greet.go, at the top of Hello, add `if name == \"panic\" { panic(\"lab: asked to panic\") }` and save. " +
				"The lab's second probe asks for name=panic.",
			file: "logic/greet/greet.go", at: greetReturn,
			saves: [][]edit{{{file: "logic/greet/greet.go", old: greetReturn,
				new: "\tif name == \"panic\" {\n\t\tpanic(\"lab: asked to panic\")\n\t}\n" + greetReturn}}},
			expect: func() check { return contained() },
			did: "The engine library recovered the panic in that request's goroutine, answered it 500, reported where (your file, not hotrun's staged copy), " +
				"and the same version went on serving the other requests.",
			rule: "recover stops a panic only in the goroutine whose deferred call runs it: the engine library defers one around every request (h.Handler) " +
				"and every unit of work (h.Run).",
			link: "https://go.dev/ref/spec#Handling_panics",
		}, {
			title: "A panic in init",
			goal:  "In logic/main.go, add `func init() { panic(\"lab: init\") }` and save.",
			file:  "logic/main.go", at: "func main() {}",
			saves:  [][]edit{{{file: "logic/main.go", old: "func main() {}", new: initPanic + "func main() {}"}}},
			expect: func() check { return refused(protocol.CodeInitPanic) },
			did: "plugin.Open ran the new version's init inside the engine; the engine library recovered its panic, refused the version and kept the one before. " +
				"hotrun never opens that file again.",
			rule: "A plugin's init runs inside plugin.Open, before the plugin is marked loaded: a later Open of the same file would wait forever, " +
				"so a version whose init panicked is dead for the process.",
			link: "https://github.com/golang/go/blob/go1.26.8/src/plugin/plugin_dlopen.go#L56-L63",
		}, {
			title: "A panic in a goroutine",
			goal: "Replace that init with one that starts a goroutine, which panics a second later: " +
				"`func init() { go func() { time.Sleep(time.Second); panic(\"lab: a goroutine\") }() }` (import \"time\"). Save, and watch the engine.",
			file: "logic/main.go", at: "func init()",
			saves: [][]edit{{
				{file: "logic/main.go", old: importGame, new: "import (\n\t\"time\"\n\n\t\"github.com/hotrun-dev/hotrun/example/game\""},
				{file: "logic/main.go", old: initPanic, new: "func init() {\n\tgo func() {\n\t\ttime.Sleep(time.Second)\n\t\tpanic(\"lab: a goroutine of the logic\")\n\t}()\n}\n\n"},
			}},
			expect: func() check { return dies() },
			did: "No recover ran in that goroutine, so Go ended the whole engine (exit code 2). hotrun saw it die on its own, marked the version suspect, " +
				"and started a new engine on the newest version no engine died on, with the state of the last snapshot.",
			rule: "A panic that reaches the top of a goroutine ends the program, whatever other goroutines defer. Recover at the top of every goroutine " +
				"the logic starts, or better, run background work through the engine (h.Run), which recovers: hotrun lab goroutine.",
			link: "https://go.dev/blog/defer-panic-and-recover",
		}},
	}
}

func goroutine() *Lab {
	const ticker = "func init() {\n\tgo func() {\n\t\tfor {\n\t\t\tlog.Printf(\"lab: tick from version %d\", modelVersion)\n\t\t\ttime.Sleep(time.Second)\n\t\t}\n\t}()\n}\n\n"
	const tick = "func (model) Tick() string { return fmt.Sprintf(\"lab: tick from version %d\", modelVersion) }\n\n"
	const loop = "\t// Background work is the engine's: each tick runs on the live version.\n" +
		"\tgo func() {\n\t\tfor range time.Tick(time.Second) {\n" +
		"\t\t\th.Run(\"tick\", func(l game.Logic) error {\n\t\t\t\tlog.Print(l.Tick())\n\t\t\t\treturn nil\n\t\t\t})\n\t\t}\n\t}()\n"
	const iface = "\tHello(name string, s Snapshot) string\n}"
	return &Lab{
		Name:  "goroutine",
		Limit: "a goroutine an old version started keeps running its old code after a swap",
		steps: []step{{
			title: "A goroutine in the logic",
			goal: "In logic/main.go, start a goroutine from init that logs every second: `func init() { go func() { for { " +
				"log.Printf(\"lab: tick from version %d\", modelVersion); time.Sleep(time.Second) } }() }` (import \"log\" and \"time\"). Its lines show on the timeline.",
			file: "logic/main.go", at: "// Logic is the symbol",
			saves: [][]edit{{
				{file: "logic/main.go", old: importGame, new: "import (\n\t\"log\"\n\t\"time\"\n\n\t\"github.com/hotrun-dev/hotrun/example/game\""},
				{file: "logic/main.go", old: "// Logic is the symbol", new: ticker + "// Logic is the symbol"},
			}},
			expect: func() check {
				return engineSays(func(line string) bool { return tickLine.MatchString(line) })
			},
			did:  "The engine ran the new version's init when it opened the plugin, and the goroutine it started logs in the engine's output, which hotrun shows as it comes.",
			rule: "Opening a plugin runs its package initializers, once, in the program that opens it: a goroutine they start belongs to that process, not to the version.",
			link: "https://go.dev/ref/spec#Package_initialization",
		}, {
			title: "Swap, and listen",
			goal:  "Change modelVersion to 1002 and save. Watch the ticks after the new version goes live.",
			file:  "logic/main.go", at: "modelVersion = ",
			saves:  [][]edit{setVersion("1001", "1002")},
			expect: func() check { return ticksFrom() },
			did: "The new version's goroutine started, and the old one's goes on: the old code still runs in the engine, every second, though no request reaches it any more. " +
				"Nothing stops it but the end of the process.",
			rule: "Go has no way to stop a goroutine from outside, and a plugin is never unloaded: what a version started keeps running after a swap, " +
				"with that version's code and globals. (A panic in it ends the engine: hotrun lab panic.)",
			link: "https://github.com/golang/go/issues/20461",
		}, {
			title: "Let the engine own the loop",
			goal: "The fix: the engine runs background work and calls the live version at each turn. Add `Tick() string` to game.Logic (game/game.go); " +
				"in logic/main.go drop the init and implement `func (model) Tick() string` (fmt.Sprintf(\"lab: tick from version %d\", modelVersion)); " +
				"in engine/main.go, after Start: `go func() { for range time.Tick(time.Second) { h.Run(\"tick\", func(l game.Logic) error { log.Print(l.Tick()); return nil }) } }()`. " +
				"Save, then change modelVersion to 1003 and save again.",
			file: "engine/main.go", at: "defer h.Close()",
			saves: [][]edit{{
				{file: "game/game.go", old: iface, new: "\tHello(name string, s Snapshot) string\n\t// Tick is one turn of the background work, run by the engine.\n\tTick() string\n}"},
				{file: "logic/main.go", old: "import (\n\t\"log\"\n\t\"time\"\n", new: "import (\n\t\"fmt\"\n"},
				{file: "logic/main.go", old: ticker, new: ""},
				{file: "logic/main.go", old: "func main() {}", new: tick + "func main() {}"},
				{file: "engine/main.go", old: "\t\"net/http\"\n", new: "\t\"net/http\"\n\t\"time\"\n"},
				{file: "engine/main.go", old: "\tdefer h.Close()\n", new: "\tdefer h.Close()\n" + loop},
			}, setVersion("1002", "1003")},
			expect: func() check { return units("tick") },
			did: "Each tick is a unit of work on the live version (h.Run): after the swap the next tick ran the new code, and no goroutine of an old version was left. " +
				"(The old ones went with the engine that the change to game replaced.)",
			rule: "Keep goroutines, tickers and connections in the engine, and have each turn call the current version (h.Run, h.Handler): " +
				"what the logic holds is code, never a running loop.",
			link: "https://pkg.go.dev/github.com/hotrun-dev/hotrun/hot#Host.Run",
		}},
	}
}

func memory() *Lab {
	return &Lab{
		Name:  "memory",
		Limit: "a plugin is never unloaded: every version stays in memory",
		steps: []step{{
			title: "Save, and save again",
			goal: "Change modelVersion to 1002 and save, then to 1003 and save. Watch the header: the versions loaded and the engine's memory (RSS) " +
				"after each load.",
			file: "logic/main.go", at: "modelVersion = ",
			saves:  [][]edit{setVersion("1001", "1002"), setVersion("1002", "1003")},
			expect: func() check { return grows(2) },
			did: "Each save was a new plugin, loaded into the engine beside the others; every few seconds hotrun reports the engine's resident memory " +
				"and the versions it holds (the header shows both).",
			rule: "A plugin is only initialized once and cannot be closed: its code and data stay for the life of the process. " +
				"Unloading is golang/go#20461, open since 2017, with no design that is safe while goroutines, types and pointers from the plugin may live on.",
			link: "https://github.com/golang/go/issues/20461",
		}, {
			title: "Roll back for free",
			goal:  "Press b: the version before goes live again.",
			key:   keyRollback,
			expect: func() check {
				return rolledBack()
			},
			did:  "No build and no plugin.Open: the version before was still loaded, and going back was one atomic swap of a pointer.",
			rule: "What can't be unloaded can be switched back to: a loaded version is a value the engine keeps, and a swap is one atomic store.",
			link: "https://pkg.go.dev/sync/atomic#Pointer",
		}, {
			title: "Recycle the engine",
			goal:  "Press R: a new engine takes over with the state, holding the live version only.",
			key:   keyRestart,
			expect: func() check {
				return recycled()
			},
			did: "hotrun started a new engine beside the old one, which loaded only the live version, took the state over and the listening socket, " +
				"and the old process ended with all it held.",
			rule: "The only way to give a plugin's memory back is to end the process: recycle the engine with its state (R by hand, or max_versions and " +
				"max_rss_mb in hotrun.toml, which do it by themselves).",
			link: "https://github.com/golang/go/issues/20461",
		}},
	}
}
