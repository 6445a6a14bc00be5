package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hotrun-dev/hotrun/event"
	"github.com/hotrun-dev/hotrun/hot/protocol"
)

// The labs about building and loading: what hotrun does so that every
// version loads, shown against the plain build that doesn't.

func pluginPath() *Lab {
	return &Lab{
		Name:  "plugin-path",
		Limit: "a plugin path loads once per process",
		files: trialFiles(),
		steps: []step{{
			title: "Two builds, one path",
			goal: "Change modelVersion to 1002 and save. hotrun builds it its way; the lab also builds the logic the plain way " +
				"(go build -buildmode=plugin ./logic), before your save and after it, and opens both files in one program (labhost/).",
			file: "logic/main.go", at: "modelVersion = ",
			saves: [][]edit{setVersion("1001", "1002")},
			trial: samePathTrial(),
			expect: func() check {
				return both(swap(), tried(func(t event.Trial) bool { return len(t.Opens) == 2 && t.Opens[1].Code == protocol.CodeAlreadyLoaded },
					func(t event.Trial) string {
						return fmt.Sprintf("plugin.Open of the second plain build: %s", t.Opens[1].Error)
					}))
			},
			did: "The plain builds gave both plugins one plugin path, the import path of ./logic, and the second was refused, whatever its file name. " +
				"hotrun's build of the same save loaded: it copies the logic to .hotrun/stage/bN and builds every version under a new import path.",
			rule: "A plugin's path is the import path of its main package, and the runtime refuses a second plugin with a path it has loaded " +
				"(\"plugin already loaded\"). -ldflags=-pluginpath alone no longer gives a new path that works.",
			link: "https://github.com/golang/go/blob/go1.26.8/src/runtime/plugin.go#L32-L36",
		}, {
			title: "A sub-package is frozen too",
			goal:  "Now edit logic/greet/greet.go (the greeting's text, say) and save: a package of the logic that an earlier version loaded already.",
			file:  "logic/greet/greet.go", at: greeting,
			saves:  [][]edit{{{file: "logic/greet/greet.go", old: greeting, new: "greetings from the lab!"}}},
			expect: func() check { return seq(swap(), answer(says("version="))) },
			did: "hotrun staged greet under a new import path for this version (.hotrun/stage/bN/logic/greet) and rewrote the logic's import of it, " +
				"so the engine met a package it had never loaded; an unchanged sub-package keeps the path it had, and is not compiled again.",
			rule: "A non-main package that one plugin brought in is frozen for the life of the process: a later plugin with an edited copy of it is refused " +
				"(\"plugin was built with a different version of package …/logic/greet\"). Every changed package needs a new import path.",
			link: "https://github.com/golang/go/blob/go1.26.8/src/runtime/plugin.go#L54-L59",
		}},
	}
}

func openTwice() *Lab {
	return &Lab{
		Name:  "open-twice",
		Limit: "opening a plugin file again returns the plugin already open",
		files: trialFiles(),
		steps: []step{{
			title: "Rebuild the file, open it again",
			goal: "Change modelVersion to 1002 and save. The lab had built the logic into one file and opened it in labhost; it now rebuilds " +
				"that same file from your save and opens it again.",
			file: "logic/main.go", at: "modelVersion = ",
			saves: [][]edit{setVersion("1001", "1002")},
			trial: reopenTrial(),
			expect: func() check {
				return both(swap(), tried(func(t event.Trial) bool {
					return len(t.Opens) == 2 && t.Opens[0].Error == "" && t.Opens[1].Error == "" && t.Opens[1].Version == t.Opens[0].Version
				}, func(t event.Trial) string {
					return fmt.Sprintf("the second plugin.Open of %s, rebuilt from your save, answered version %d: the code before it", t.Opens[1].File, t.Opens[1].Version)
				}))
			},
			did: "plugin.Open returned the plugin it had opened from that file name, without reading the file again: the rebuilt code never ran, " +
				"and no error said so. hotrun never opens a file twice: every build is a new file.",
			rule: "plugin.Open keeps the plugins it opened by path and returns the same one for the same path, whatever the file holds now; " +
				"a plugin can't be closed or reloaded.",
			link: "https://github.com/golang/go/blob/go1.26.8/src/plugin/plugin_dlopen.go#L56-L63",
		}, {
			title: "A new file each time",
			goal:  "Change modelVersion to 1003 and save, and look at the path on the build line (or the timeline): each version is a file of its own.",
			file:  "logic/main.go", at: "modelVersion = ",
			saves:  [][]edit{setVersion("1002", "1003")},
			expect: func() check { return seq(swap(), answer(says("version="))) },
			did: "hotrun wrote the new version to a file of its own (.hotrun/build/logic.vN.bK.so), which the engine opened for the first time, " +
				"so it runs the new code. A version that must serve again (b, a rollback) is the one still loaded: no file is opened twice.",
			rule: "Give every version a new file and a new plugin path; going back to a version is switching to the plugin already open, never opening it again.",
			link: "https://pkg.go.dev/plugin#Open",
		}},
	}
}

func flagsMismatch() *Lab {
	return flagLab("flags-mismatch", "-trimpath", "an engine and a plugin built with other flags won't load together",
		"with -trimpath every file path compiled into every package differs, so every package's fingerprint does",
		"https://github.com/golang/go/issues/27751")
}

func race() *Lab {
	return flagLab("race", "-race", "-race on one side only: the plugin won't load",
		"the race detector instruments every package, the runtime's own included, so none is the program's",
		"https://go.dev/doc/articles/race_detector")
}

// flagLab is a lab about a build flag on one side only: the plain plugin
// built with flag, opened in a program built without it, then with it.
func flagLab(name, flag, limit, why, link string) *Lab {
	return &Lab{
		Name:  name,
		Limit: limit,
		files: trialFiles(),
		steps: []step{{
			title: flag + " on the plugin only",
			goal: "Change modelVersion to 1002 and save. hotrun builds it its way; the lab also builds it by hand with " + flag +
				", and opens it in a program built without " + flag + " (labhost/), as an engine you built yourself would.",
			file: "logic/main.go", at: "modelVersion = ",
			saves: [][]edit{setVersion("1001", "1002")},
			trial: flagTrial(flag, false),
			expect: func() check {
				return both(swap(), tried(func(t event.Trial) bool { return len(t.Opens) == 1 && t.Opens[0].Code == protocol.CodeDifferentPackage },
					func(t event.Trial) string { return "the plain build: " + t.Opens[0].Error }))
			},
			did: "plugin.Open refused it, naming the first package that differs: " + why + ". hotrun's build of the same save loaded: " +
				"it builds the engine and every plugin with one go command and one set of flags.",
			rule: "A plugin carries a fingerprint of every package it was linked against, taken from the package's compiled export data, which changes " +
				"with source file paths (-trimpath) and with flags that change compilation (-race, -gcflags); the runtime compares them with the program's. " +
				"-tags and -ldflags=-s -w may differ.",
			link: link,
		}, {
			title: flag + " on both sides",
			goal: "Change modelVersion to 1003 and save: the lab now builds the program with " + flag + " too. To run hotrun with a flag, give it to both: " +
				"build_flags = [\"" + flag + "\"] in hotrun.toml, or hotrun -buildflags=" + flag + ".",
			file: "logic/main.go", at: "modelVersion = ",
			saves: [][]edit{setVersion("1002", "1003")},
			trial: flagTrial(flag, true),
			expect: func() check {
				return tried(func(t event.Trial) bool {
					return len(t.Opens) == 1 && t.Opens[0].Error == "" && t.Opens[0].Version != 0
				},
					func(t event.Trial) string {
						return fmt.Sprintf("plugin.Open of the plugin built with %s, in a program built with it too: ok, it answers version %d", flag, t.Opens[0].Version)
					})
			},
			did: "Built alike, the plugin loaded. That is what hotrun does with build_flags: the engine and every plugin get them, from one go command, " +
				"and before it asks the engine to load a plugin it checks that both were built with the same Go and the same -race, -trimpath and -gcflags.",
			rule: "Build the engine and its plugins with the same Go, the same -trimpath, -race and -gcflags=all=…, and the same version of every dependency. " +
				"A plugin from another Go release ends the program with \"runtime: no plugin module data\", which no recover catches.",
			link: "https://github.com/golang/go/blob/go1.26.8/src/runtime/plugin.go#L54-L59",
		}},
	}
}

func depVersion() *Lab {
	quote := func(v string) string {
		return "// Package quote is a dependency of the lab's engine and logic: this copy is " + v + ".\npackage quote\n\n" +
			"// Version is the version of this copy of the module.\nfunc Version() string { return \"" + v + "\" }\n\n" +
			"// Hello says which version answers.\nfunc Hello() string { return \"quote \" + Version() }\n"
	}
	files := trialFiles()
	files["labhost/quote.go"] = "package main\n\n// The engine holds example.com/quote; labhost does too, to open plugins as the engine would.\nimport _ \"example.com/quote\"\n"
	for _, v := range []string{"v1.0.0", "v1.1.0"} {
		dir := "deps/quote-" + strings.TrimSuffix(v, ".0")
		files[dir+"/go.mod"] = "module example.com/quote\n\ngo 1.22\n"
		files[dir+"/quote.go"] = quote(v)
	}
	const uses = "\tlog.Printf(\"engine: serving on"
	return &Lab{
		Name:  "dep-version",
		Limit: "a plugin built against another version of a dependency than the engine won't load",
		files: files,
		gomod: "require example.com/quote v1.0.0\n\n" +
			"// The module's two versions, as copies in deps/ (a lab works offline).\n" +
			"replace example.com/quote v1.0.0 => ./deps/quote-v1.0\n\nreplace example.com/quote v1.1.0 => ./deps/quote-v1.1\n",
		setup: []edit{
			{file: "engine/main.go", old: "\t\"github.com/hotrun-dev/hotrun/example/game\"\n", new: "\t\"example.com/quote\"\n\t\"github.com/hotrun-dev/hotrun/example/game\"\n"},
			{file: "engine/main.go", old: uses, new: "\tlog.Printf(\"engine: uses example.com/quote %s\", quote.Version())\n" + uses},
		},
		steps: []step{{
			title: "The logic uses the dependency",
			goal: "The engine uses example.com/quote (go.mod requires v1.0.0). Use it in the logic too: in logic/main.go import \"example.com/quote\" " +
				"and add `+ \", \" + quote.Hello()` to Hello's answer. Save.",
			file: "logic/main.go", at: "return greet.Hello",
			saves: [][]edit{{
				{file: "logic/main.go", old: importGame, new: "import (\n\t\"example.com/quote\"\n\t\"github.com/hotrun-dev/hotrun/example/game\""},
				{file: "logic/main.go", old: "return greet.Hello(name, modelVersion, modelName, s)", new: "return greet.Hello(name, modelVersion, modelName, s) + \", \" + quote.Hello()"},
			}},
			expect: func() check { return seq(swap(), answer(says("quote v1.0.0"))) },
			did:    "The new version links example.com/quote, which the engine holds already: the plugin uses the engine's copy, v1.0.0.",
			rule:   "A package the engine holds is shared with every plugin: one copy, the engine's, at the version the engine was built with.",
			link:   "https://pkg.go.dev/plugin",
		}, {
			title: "A plugin built against v1.1.0",
			goal: "Change modelVersion to 1002 and save. The lab builds it by hand against example.com/quote v1.1.0 (a go.mod of its own, -modfile), " +
				"and opens it in a program built against v1.0.0, as the engine is.",
			file: "logic/main.go", at: "modelVersion = ",
			saves: [][]edit{setVersion("1001", "1002")},
			trial: depTrial(),
			expect: func() check {
				return both(swap(), tried(func(t event.Trial) bool {
					return len(t.Opens) == 1 && t.Opens[0].Code == protocol.CodeDifferentPackage && strings.Contains(t.Opens[0].Error, "example.com/quote")
				}, func(t event.Trial) string { return "the plain build: " + t.Opens[0].Error }))
			},
			did: "plugin.Open refused it: the program holds v1.0.0's example.com/quote, and the plugin was built against another. " +
				"A package loaded once is never replaced.",
			rule: "An engine and its plugins must agree on the version of every package they share, dependencies included. " +
				"With hotrun they do: both are built from one go.mod.",
			link: "https://github.com/golang/go/blob/go1.26.8/src/runtime/plugin.go#L54-L59",
		}, {
			title: "Upgrade it for both",
			goal:  "The fix is what go get does: in go.mod, require example.com/quote v1.1.0 and save. go.mod is the engine's too.",
			file:  "go.mod", at: "require example.com/quote",
			saves:  [][]edit{{{file: "go.mod", old: "require example.com/quote v1.0.0", new: "require example.com/quote v1.1.0"}}},
			expect: func() check { return seq(handover("go.mod"), answer(says("quote v1.1.0"))) },
			did: "go.mod changed, so hotrun built a new engine and the logic against it, both with v1.1.0, and handed over: engine and plugin agree again, " +
				"and the state went along.",
			rule: "A dependency's new version changes packages the engine holds, and only a new engine can take them: hotrun treats go.mod and go.sum as the engine's.",
			link: "https://go.dev/ref/mod#go-get",
		}},
	}
}

// samePathTrial builds the logic the plain way before the learner's save
// and after it, to two files, and opens both in one program.
func samePathTrial() *trial {
	const how = "go build -buildmode=plugin ./logic"
	return &trial{
		what: "the logic built the plain way before your save and after it, opened in one program",
		prepare: func(ctx context.Context, b *bench) error {
			_, err := b.build(ctx, nil, "./logic", "one.so", true)
			return err
		},
		run: func(ctx context.Context, b *bench) ([]event.TrialOpen, error) {
			if _, err := b.build(ctx, nil, "./logic", "two.so", true); err != nil {
				return nil, err
			}
			h, err := b.startHost(ctx, nil)
			if err != nil {
				return nil, err
			}
			defer h.close()
			return []event.TrialOpen{h.open(b, "one.so", how+", before your save"), h.open(b, "two.so", how+", after it")}, nil
		},
	}
}

// reopenTrial opens a plain build of the logic, rebuilds the same file
// from the learner's save, and opens it again.
func reopenTrial() *trial {
	const how = "go build -buildmode=plugin ./logic"
	return &trial{
		what: "the logic built the plain way to one file, opened, rebuilt from your save to the same file and opened again",
		prepare: func(ctx context.Context, b *bench) error {
			_, err := b.build(ctx, nil, "./logic", "logic.so", true)
			return err
		},
		run: func(ctx context.Context, b *bench) ([]event.TrialOpen, error) {
			h, err := b.startHost(ctx, nil)
			if err != nil {
				return nil, err
			}
			defer h.close()
			first := h.open(b, "logic.so", how+", before your save")
			// The rebuild goes to another name and is renamed over the
			// file: the program has the old one mapped, and writing into
			// it would crash the program rather than show the rule.
			if _, err := b.build(ctx, nil, "./logic", "next.so", true); err != nil {
				return nil, err
			}
			if err := os.Rename(filepath.Join(b.out, "next.so"), filepath.Join(b.out, "logic.so")); err != nil {
				return nil, err
			}
			return []event.TrialOpen{first, h.open(b, "logic.so", how+", after your save, to the same file")}, nil
		},
	}
}

// flagTrial builds the plugin with flag and opens it in labhost, built
// with flag too when both is set.
func flagTrial(flag string, both bool) *trial {
	what := "the logic built with " + flag + ", opened in a program built without it"
	var hostFlags []string
	if both {
		what, hostFlags = "the logic built with "+flag+", opened in a program built with it too", []string{flag}
	}
	return &trial{
		what: what,
		run: func(ctx context.Context, b *bench) ([]event.TrialOpen, error) {
			how, err := b.build(ctx, []string{flag}, "./logic", "flag.so", true)
			if err != nil {
				return nil, err
			}
			h, err := b.startHost(ctx, hostFlags)
			if err != nil {
				return nil, err
			}
			defer h.close()
			return []event.TrialOpen{h.open(b, "flag.so", how)}, nil
		},
	}
}

// depTrial builds the plugin against the other version of example.com/quote
// than go.mod requires, and opens it in labhost, built with go.mod's.
func depTrial() *trial {
	return &trial{
		what: "the logic built against the other version of example.com/quote, opened in a program built with go.mod's",
		run: func(ctx context.Context, b *bench) ([]event.TrialOpen, error) {
			mod, err := os.ReadFile(filepath.Join(b.dir, "go.mod"))
			if err != nil {
				return nil, err
			}
			now, other := "v1.0.0", "v1.1.0"
			if strings.Contains(string(mod), "require example.com/quote v1.1.0") {
				now, other = other, now
			}
			alt := strings.Replace(string(mod), "require example.com/quote "+now, "require example.com/quote "+other, 1)
			modfile := filepath.Join(b.out, "quote-"+other+".mod")
			if err := os.WriteFile(modfile, []byte(alt), 0o644); err != nil {
				return nil, err
			}
			// The go command reads the sums of a -modfile beside it.
			if sum, err := os.ReadFile(filepath.Join(b.dir, "go.sum")); err == nil {
				if err := os.WriteFile(strings.TrimSuffix(modfile, ".mod")+".sum", sum, 0o644); err != nil {
					return nil, err
				}
			}
			if _, err := b.build(ctx, []string{"-modfile=" + modfile}, "./logic", "dep.so", true); err != nil {
				return nil, err
			}
			h, err := b.startHost(ctx, nil)
			if err != nil {
				return nil, err
			}
			defer h.close()
			return []event.TrialOpen{h.open(b, "dep.so", fmt.Sprintf("go build -buildmode=plugin ./logic, against example.com/quote %s (the program has %s)", other, now))}, nil
		},
	}
}
