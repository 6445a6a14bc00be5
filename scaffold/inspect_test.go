package scaffold

import (
	"context"
	"strings"
	"testing"
)

// The chat project of issue 12: room/room.go holds Hall and the Logic
// interface, logic/ implements it.
const (
	roomGo = `// Package room is the chat's state and the interface of its logic.
package room

import "sync"

type Hall struct {
	mu    sync.Mutex
	Rooms map[string][]string
}

func NewHall() *Hall { return &Hall{Rooms: map[string][]string{}} }

type Logic interface {
	Say(h *Hall, room, who, text string) string
}
`
	logicGo = `package main

import "example.com/chat/room"

var Logic room.Logic = chat{}

type chat struct{}

func (chat) Say(h *room.Hall, r, who, text string) string { return who + ": " + text }

func main() {}
`
)

func TestInspect(t *testing.T) {
	t.Parallel()
	hostMod := "module example.com/chat\n\ngo 1.26.7\n\nrequire github.com/hotrun-dev/hotrun v0.0.0\n\nreplace github.com/hotrun-dev/hotrun => " + checkout(t) + "\n"
	plainMod := "module example.com/chat\n\ngo 1.26.7\n"
	engine := func(cfg string) string {
		return `package main

import (
	"example.com/chat/room"
	"github.com/hotrun-dev/hotrun/hot"
)

func main() {
	h := hot.New(hot.Config[room.Logic]{` + cfg + `})
	_ = h.Start("")
}
`
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		// want is the parts found, as "engine shared state logic symbol"
		// ("-" for none), or "?" and a piece of Unsure.
		want   string
		unsure string
		todo   string // a piece of one Todo line; "" for no Todo
	}{
		{
			name:  "half converted",
			files: map[string]string{"go.mod": plainMod, "room/room.go": roomGo, "logic/main.go": logicGo},
			want:  "- room.Logic room.Hall ./logic Logic",
		},
		{
			name: "engine with its own symbol",
			files: map[string]string{"go.mod": hostMod, "room/room.go": roomGo,
				"cmd/chat/main.go": engine(`Symbol: "Rules"`),
				"rules/main.go":    strings.Replace(logicGo, "var Logic", "var Rules", 1)},
			want: "./cmd/chat room.Logic room.Hall ./rules Rules",
		},
		{
			name: "the engine's symbol is not exported",
			files: map[string]string{"go.mod": hostMod, "room/room.go": roomGo,
				"engine/main.go": engine(""),
				"logic/main.go":  strings.Replace(logicGo, "var Logic", "var Rules", 1)},
			unsure: "the engine looks up Logic, but ./logic exports Rules",
			todo:   `Symbol: "Rules"`,
		},
		{
			name: "declared by type only",
			files: map[string]string{"go.mod": plainMod, "room/room.go": roomGo,
				"logic/main.go": strings.Replace(logicGo, "var Logic room.Logic = chat{}", "var Logic chat", 1)},
			want: "- room.Logic room.Hall ./logic Logic",
		},
		{
			name: "a pointer variable",
			files: map[string]string{"go.mod": plainMod, "room/room.go": roomGo,
				"logic/main.go": strings.Replace(logicGo, "var Logic room.Logic = chat{}", "var Logic = &chat{}", 1)},
			want: "- room.Logic room.Hall ./logic Logic",
			todo: "var Logic room.Logic = …   # in ./logic: declare Logic with the interface's type",
		},
		{
			name: "two interfaces",
			files: map[string]string{"go.mod": plainMod, "room/room.go": roomGo, "logic/main.go": logicGo,
				"lobby/lobby.go":     "package lobby\n\ntype Logic interface{ Enter(who string) }\n",
				"lobbylogic/main.go": "package main\n\nimport \"example.com/chat/lobby\"\n\nvar Logic lobby.Logic = l{}\n\ntype l struct{}\n\nfunc (l) Enter(string) {}\n\nfunc main() {}\n"},
			unsure: "more than one interface",
			todo:   "hot.Config[lobby.Logic]",
		},
		{
			name: "two logics",
			files: map[string]string{"go.mod": plainMod, "room/room.go": roomGo, "logic/main.go": logicGo,
				"logic2/main.go": logicGo},
			unsure: "several main packages export a room.Logic (./logic, ./logic2)",
		},
		{
			name: "no export",
			files: map[string]string{"go.mod": plainMod, "room/room.go": roomGo,
				"logic/main.go": strings.Replace(logicGo, "var Logic room.Logic = chat{}", "", 1)},
			unsure: "no logic",
			todo:   "var Logic room.Logic = chat{}   # in ./logic",
		},
		{
			name: "no export, pointer receiver",
			files: map[string]string{"go.mod": plainMod, "room/room.go": roomGo,
				"logic/main.go": strings.NewReplacer("var Logic room.Logic = chat{}", "", "func (chat)", "func (*chat)").Replace(logicGo)},
			unsure: "no logic",
			todo:   "var Logic room.Logic = &chat{}   # in ./logic",
		},
		{
			name: "a server that is no engine yet",
			files: map[string]string{"go.mod": plainMod, "room/room.go": roomGo, "logic/main.go": logicGo,
				"server/main.go": "package main\n\nimport \"example.com/chat/room\"\n\nfunc main() { _ = room.NewHall() }\n"},
			want: "./server room.Logic room.Hall ./logic Logic",
			todo: "h := hot.New(hot.Config[room.Logic]{State: state})   # state: your *room.Hall",
		},
		{
			name: "two engines",
			files: map[string]string{"go.mod": hostMod, "room/room.go": roomGo, "logic/main.go": logicGo,
				"a/main.go": engine(""), "b/main.go": engine("")},
			unsure: "several main packages import the engine library (./a, ./b)",
		},
		{
			name:  "empty",
			files: map[string]string{"go.mod": plainMod},
			want:  "empty",
		},
		{
			name:  "a library",
			files: map[string]string{"go.mod": plainMod, "util/util.go": "package util\n\nfunc F() {}\n"},
			want:  "empty",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := module(t, tc.files)
			p, err := Inspect(context.Background(), Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if tc.unsure != "" {
				if !strings.Contains(p.Unsure, tc.unsure) {
					t.Errorf("Unsure = %q, want it to say %q", p.Unsure, tc.unsure)
				}
			} else if p.Unsure != "" {
				t.Errorf("unsure: %s (todo %q)", p.Unsure, p.Todo)
			} else if got := summary(p); got != tc.want {
				t.Errorf("found %q, want %q", got, tc.want)
			}
			if tc.todo != "" && !strings.Contains(strings.Join(p.Todo, "\n"), tc.todo) {
				t.Errorf("Todo %q lacks %q", p.Todo, tc.todo)
			} else if tc.todo == "" && tc.unsure == "" && len(p.Todo) > 0 {
				t.Errorf("Todo %q, want none", p.Todo)
			}
		})
	}
}

func summary(p *Project) string {
	if p.Empty {
		return "empty"
	}
	dir := func(pt *Part) string {
		if pt == nil {
			return "-"
		}
		return pt.Dir
	}
	name := func(pt *Part) string {
		if pt == nil {
			return "-"
		}
		return pt.Name
	}
	return strings.Join([]string{dir(p.Engine), name(p.Shared), name(p.State), dir(p.Logic), p.Symbol}, " ")
}
