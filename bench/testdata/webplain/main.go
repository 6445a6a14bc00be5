// Command webplain is the web project as one executable, for air: the
// same page from the same embedded templates.
package main

import (
	"embed"
	"flag"
	"html/template"
	"log"
	"net/http"
	"sync/atomic"
)

//go:embed templates/*.html
var files embed.FS

//go:embed static/site.css
var css template.CSS

var pages = template.Must(template.ParseFS(files, "templates/*.html"))

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve HTTP on")
	flag.Parse()
	var visits atomic.Int64
	http.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err := pages.ExecuteTemplate(w, "page.html", map[string]any{"Name": r.URL.Query().Get("name"), "Visits": int(visits.Add(1)), "CSS": css})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
