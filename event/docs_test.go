package event

import (
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDocumented fails when docs/config.md's table of events lacks an
// event the stream carries, or one of its JSON fields, or names an event
// that no longer is: editors and scripts read -json by that table. It
// walks the decoder's table (every kind of event) and each type's fields
// by reflection.
func TestDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := eventTable(t, string(doc))
	names := slices.Sorted(maps.Keys(decoders))
	for _, name := range names {
		e, err := decoders[name]([]byte("{}"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		documented, ok := rows[name]
		if !ok {
			t.Errorf("docs/config.md: the events table has no row for %s", name)
			continue
		}
		for _, f := range jsonFields(reflect.TypeOf(e)) {
			if !slices.Contains(documented, f) {
				t.Errorf("docs/config.md: the events table's row for %s lacks its field `%s`", name, f)
			}
		}
	}
	for name := range rows {
		if decoders[name] == nil {
			t.Errorf("docs/config.md: the events table has a row for %s, which is no event", name)
		}
	}
}

// code is a `quoted` span of markdown.
var code = regexp.MustCompile("`([^`]+)`")

// eventTable reads the table whose header is "| event | fields |": for
// each event named (in backquotes) in a row's first cell, the words in
// backquotes in its second cell.
func eventTable(t *testing.T, doc string) map[string][]string {
	t.Helper()
	rows := make(map[string][]string)
	in := false
	for _, line := range strings.Split(doc, "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		switch {
		case !strings.HasPrefix(line, "|"):
			in = false
		case len(cells) >= 2 && strings.TrimSpace(cells[0]) == "event" && strings.TrimSpace(cells[1]) == "fields":
			if len(rows) > 0 {
				t.Fatal("docs/config.md has two tables of events: keep one")
			}
			in = true
		case in && len(cells) >= 2:
			var fields []string
			for _, m := range code.FindAllStringSubmatch(strings.Join(cells[1:], "|"), -1) {
				fields = append(fields, m[1])
			}
			for _, m := range code.FindAllStringSubmatch(cells[0], -1) {
				rows[m[1]] = fields
			}
		}
	}
	if len(rows) == 0 {
		t.Fatal(`docs/config.md has no table of events ("| event | fields |")`)
	}
	return rows
}

// jsonFields returns the names of typ's fields in its JSON form.
func jsonFields(typ reflect.Type) []string {
	var out []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			out = append(out, jsonFields(f.Type)...)
			continue
		case name == "":
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}
