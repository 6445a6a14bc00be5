package scaffold

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fixture copies testdata/flat/name, a flat server in the shape people
// write one, to a temporary directory.
func fixture(t *testing.T, name string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "flat", name))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// snapshot reads every file under dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func names(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

// flatRecipe runs Write on a copy of the fixture: it must write nothing
// and return a recipe.
func flatRecipe(t *testing.T, name string) *Recipe {
	t.Helper()
	dir := fixture(t, name)
	before := snapshot(t, dir)
	res, err := Write(context.Background(), Options{Dir: dir, Checkout: checkout(t)})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Project
	if p == nil || p.Recipe == nil {
		t.Fatalf("no recipe: project %+v", p)
	}
	if p.Unsure != "" {
		t.Errorf("unsure: %s", p.Unsure)
	}
	if len(res.Wrote()) != 0 || res.Require != "" {
		t.Errorf("wrote %q, require %q", res.Wrote(), res.Require)
	}
	if after := snapshot(t, dir); !mapsEqual(before, after) {
		t.Errorf("the module changed")
	}
	return p.Recipe
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// edit returns the recipe's edit at pos, failing the test when there is
// none.
func editAt(t *testing.T, r *Recipe, pos string) Edit {
	t.Helper()
	for _, e := range r.Edits {
		if e.Pos == pos {
			return e
		}
	}
	t.Fatalf("no edit at %s in %+v", pos, r.Edits)
	return Edit{}
}

// The websocket hub of gorilla/websocket's chat example, as it is: one
// package main (hub.go, client.go, main.go). The hub and the clients are
// state; serveHome and the formatting of each message are the logic; the
// upgrade stays in the engine, and each message goes through h.Run.
func TestRecipeWebsocketHub(t *testing.T) {
	t.Parallel()
	r := flatRecipe(t, "wshub")
	if r.Dir != "." || r.Shared != "chat" || r.Iface != "chat.Logic" {
		t.Errorf("dir %q shared %q iface %q", r.Dir, r.Shared, r.Iface)
	}
	if got, want := names(r.State), []string{"Client", "Hub"}; !slices.Equal(got, want) {
		t.Errorf("state %q, want %q", got, want)
	}
	if got, want := names(r.Logic), []string{"serveHome", "message formatting"}; !slices.Equal(got, want) {
		t.Errorf("logic %q, want %q", got, want)
	}
	if got, want := names(r.Engine), []string{"serveWs"}; !slices.Equal(got, want) {
		t.Errorf("engine %q, want %q", got, want)
	}
	var paths []string
	for _, f := range r.Create {
		paths = append(paths, f.Path)
	}
	if want := []string{"chat/chat.go", "logic/main.go", "hotrun.toml"}; !slices.Equal(paths, want) {
		t.Errorf("files %q, want %q", paths, want)
	}
	for _, want := range []string{"ServeHome(w http.ResponseWriter, r *http.Request)", "Format(message []byte) []byte"} {
		if !strings.Contains(r.Create[0].Src, want) {
			t.Errorf("the interface lacks %q:\n%s", want, r.Create[0].Src)
		}
	}
	if !strings.Contains(r.Create[2].Src, `engine = "."`) {
		t.Errorf("hotrun.toml:\n%s", r.Create[2].Src)
	}
	if e := editAt(t, r, "main.go:32"); e.Was != `http.HandleFunc("/", serveHome)` || !strings.Contains(e.Now, `http.Handle("/", h.Handler(func(w http.ResponseWriter, r *http.Request, l chat.Logic) { l.ServeHome(w, r) }))`) {
		t.Errorf("the handler's site: %+v", e)
	}
	if e := editAt(t, r, "client.go:72"); !strings.Contains(e.Now, `h.Run("message", func(l chat.Logic) error {`) || !strings.Contains(e.Now, "message = l.Format(message)") {
		t.Errorf("the message's site: %+v", e)
	}
	// readPump is a method: h must be package-level to reach it.
	if e := editAt(t, r, "main.go:13"); !strings.Contains(e.Now, "var h = hot.New(hot.Config[chat.Logic]{})") {
		t.Errorf("the host: %+v", e)
	}
	if e := editAt(t, r, "main.go:36"); !regexp.MustCompile(`(?s)h\.Listen\("tcp", \*addr\).*h\.Start\(\*pluginPath\).*err = h\.Serve\(ln, nil\)`).MatchString(e.Now) {
		t.Errorf("the listen: %+v", e)
	}
	after := strings.Join(r.After, "\n")
	for _, want := range []string{"serveHome (main.go:15)", "space (client.go:32)", `in client.go, remove the import of "bytes"`, "run hotrun init again"} {
		if !strings.Contains(after, want) {
			t.Errorf("the last steps lack %q:\n%s", want, after)
		}
	}
	if strings.Contains(after, "newline") {
		t.Errorf("newline is the engine's too (writePump), yet the recipe deletes it:\n%s", after)
	}
}

// A net/http handler set with a store: the handlers are methods of a
// server that holds the store, so the store moves to the shared package
// and each handler takes it.
func TestRecipeHandlersWithStore(t *testing.T) {
	t.Parallel()
	r := flatRecipe(t, "notes")
	if r.Iface != "notes.Logic" {
		t.Errorf("iface %q", r.Iface)
	}
	if got, want := names(r.State), []string{"server", "Store"}; !slices.Equal(got, want) {
		t.Errorf("state %q, want %q", got, want)
	}
	if got, want := names(r.Logic), []string{"(*server).handleList", "(*server).handleAdd", "(*server).handleGet", "(*server).handleDelete", "healthz"}; !slices.Equal(got, want) {
		t.Errorf("logic %q, want %q", got, want)
	}
	if !strings.Contains(r.State[1].Note, "moves to notes/") || strings.Contains(r.State[0].Note, "moves") {
		t.Errorf("state notes: %+v", r.State)
	}
	if !strings.Contains(r.Create[0].Src, "HandleList(w http.ResponseWriter, r *http.Request, store *Store)") {
		t.Errorf("the interface:\n%s", r.Create[0].Src)
	}
	logic := r.Create[1].Src
	for _, want := range []string{"func (logic) HandleGet(w http.ResponseWriter, r *http.Request, store *notes.Store) {", "n, ok := store.Get(id)", "func writeJSON(w http.ResponseWriter, code int, v any) {"} {
		if !strings.Contains(logic, want) {
			t.Errorf("the logic lacks %q:\n%s", want, logic)
		}
	}
	if e := editAt(t, r, "main.go:27"); e.Now != `mux.Handle("GET /notes/{id}", h.Handler(func(w http.ResponseWriter, r *http.Request, l notes.Logic) { l.HandleGet(w, r, s.store) }))` {
		t.Errorf("a handler's site: %+v", e)
	}
	// Every site is in main: the host is main's.
	var host Edit
	for _, e := range r.Edits {
		if strings.Contains(e.Now, "hot.New(") {
			host = e
		}
	}
	if !strings.Contains(host.Now, "h := hot.New(hot.Config[notes.Logic]{})") || host.How != "after" || host.Was != "flag.Parse()" {
		t.Errorf("the host: %+v", host)
	}
	// log.Fatal(srv.ListenAndServe()) must not fire when h.Serve returns
	// nil at a handover.
	if e := editAt(t, r, "main.go:37"); !strings.Contains(e.Now, "if err := h.Serve(ln, srv.Handler); err != nil {\n\tlog.Fatal(err)\n}") || !strings.Contains(e.Note, "timeouts") {
		t.Errorf("the listen: %+v", e)
	}
	move := strings.Join(r.Move, "\n")
	for _, want := range []string{"move store.go to notes/store.go", "handlers.go:12 (Store)", "main.go:23 (NewStore)"} {
		if !strings.Contains(move, want) {
			t.Errorf("the moves lack %q:\n%s", want, move)
		}
	}
}

// scaffold/testdata/flat/wshub-after is the websocket hub after its recipe
// was followed by hand, as printed: the files to create are there as the
// recipe has them, and every change it asks of the engine is made. init
// then adopts it, the root package as the engine (cmd/hotrun's
// TestFlatHubHotSwaps runs it under websocket clients).
func TestRecipeFollowedByHand(t *testing.T) {
	t.Parallel()
	r := flatRecipe(t, "wshub")
	after := snapshot(t, filepath.Join("testdata", "flat", "wshub-after"))
	for _, f := range r.Create[:2] {
		if after[f.Path] != f.Src {
			t.Errorf("%s is not as the recipe has it:\n%s\nrecipe:\n%s", f.Path, after[f.Path], f.Src)
		}
	}
	space := regexp.MustCompile(`\s+`)
	norm := func(s string) string { return space.ReplaceAllString(strings.TrimSpace(s), " ") }
	var engine strings.Builder
	for _, name := range []string{"main.go", "client.go", "hub.go"} {
		engine.WriteString(norm(after[name]) + " ")
	}
	for _, e := range r.Edits {
		if e.Now == "" || e.How == "in" {
			continue // imports: goimports' grouping differs
		}
		if !strings.Contains(engine.String(), norm(e.Now)) {
			t.Errorf("the change at %s is not made:\n%s", e.Pos, e.Now)
		}
	}
	if strings.Contains(after["main.go"], "func serveHome") || strings.Contains(after["client.go"], "space ") || strings.Contains(after["client.go"], `"bytes"`) {
		t.Error("what the recipe deletes is still in the engine")
	}

	dir := fixture(t, "wshub-after")
	p, err := Inspect(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(p); p.Unsure != "" || p.Recipe != nil || got != ". chat.Logic - ./logic Logic" {
		t.Errorf("init finds %q (unsure %q, recipe %v)", got, p.Unsure, p.Recipe != nil)
	}
}

// A line server over TCP, a method of its state running each connection:
// the unit is what is done with each line (its continue is the method's
// return), the state it writes is taken whole, the state moves with its
// names exported, the method that runs the connection stays in the engine
// as a function, and the accept loop closes its listener on h.Stopping().
func TestRecipeLineServer(t *testing.T) {
	t.Parallel()
	dir := module(t, map[string]string{
		"go.mod": "module example.com/kv\n\ngo 1.26.7\n",
		"main.go": `package main

import (
	"bufio"
	"fmt"
	"log"
	"net"
	"strings"
	"sync"
)

type session struct {
	conn net.Conn
	db   string
}

type store struct {
	mu   sync.Mutex
	data map[string]map[string]string
}

func newStore() *store { return &store{data: map[string]map[string]string{}} }

func (s *store) get(db, k string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data[db][k]
}

func (s *store) serve(conn net.Conn) {
	defer conn.Close()
	ss := &session{conn: conn, db: "0"}
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if db, ok := strings.CutPrefix(line, "use "); ok {
			ss.db = db
			continue
		}
		fmt.Fprintln(ss.conn, s.get(ss.db, line))
	}
}

func main() {
	s := newStore()
	ln, err := net.Listen("tcp", "127.0.0.1:7000")
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go s.serve(c)
	}
}
`})
	res, err := Write(context.Background(), Options{Dir: dir, Checkout: checkout(t)})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Project.Recipe
	if r == nil || len(res.Wrote()) != 0 {
		t.Fatalf("recipe %v, wrote %q", r != nil, res.Wrote())
	}
	if got, want := names(r.Logic), []string{"message handling"}; !slices.Equal(got, want) {
		t.Fatalf("logic %q, want %q", got, want)
	}
	if !strings.Contains(r.Create[0].Src, "OnMessage(line string, ss *Session, s *Store)") {
		t.Errorf("the interface:\n%s", r.Create[0].Src)
	}
	logic := r.Create[1].Src
	for _, want := range []string{
		"func (logic) OnMessage(line string, ss *kv.Session, s *kv.Store) {",
		"\t\treturn\n", // continue, in the loop, is return in the method
		"ss.Db = db",   // written through the session, which the method takes whole
		"fmt.Fprintln(ss.Conn, s.Get(ss.Db, line))",
	} {
		if !strings.Contains(logic, want) {
			t.Errorf("the logic lacks %q:\n%s", want, logic)
		}
	}
	if strings.Contains(logic, "continue") {
		t.Errorf("a continue left the loop for the method:\n%s", logic)
	}
	move := strings.Join(r.Move, "\n")
	for _, want := range []string{
		"but keep (*store).serve (main.go:30) in the engine, as a function",
		"func serve(s *kv.Store, conn net.Conn)",
		"export get (main.go:24) as Get: used by the logic",
		"export newStore (main.go:22) as NewStore: used at main.go:48",
	} {
		if !strings.Contains(move, want) {
			t.Errorf("the moves lack %q:\n%s", want, move)
		}
	}
	if e := editAt(t, r, "main.go:36"); !strings.Contains(e.Now, "l.OnMessage(line, ss, s)") || !strings.Contains(e.Note, "lines 36–43") {
		t.Errorf("the unit's site: %+v", e)
	}
	if e := editAt(t, r, "main.go:49"); !strings.Contains(e.Now, `ln, err := h.Listen("tcp", "127.0.0.1:7000")`) || !strings.Contains(e.Now, "<-h.Stopping()") || !strings.Contains(e.Now, "ln.Close()") {
		t.Errorf("the listen: %+v", e)
	}
	if e := editAt(t, r, "main.go:55"); !strings.Contains(e.Now, "return // hotrun handed the socket to a new engine") {
		t.Errorf("the accept's error: %+v", e)
	}
}
