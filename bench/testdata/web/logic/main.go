// Command logic renders the web project's page from embedded templates
// and CSS: the bench edits templates/page.html.
package main

import (
	"embed"
	"html/template"
	"io"

	"example.com/web/shared"
)

//go:embed templates/*.html
var files embed.FS

//go:embed static/site.css
var css template.CSS

var pages = template.Must(template.ParseFS(files, "templates/*.html"))

// Logic is the symbol the engine looks up.
var Logic shared.Logic = page{}

type page struct{}

func (page) Page(w io.Writer, name string, visits int) error {
	return pages.ExecuteTemplate(w, "page.html", map[string]any{"Name": name, "Visits": visits, "CSS": css})
}

func main() {}
