package reload

import (
	"bytes"
	_ "embed"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

//go:embed reload.js
var script []byte

func serveScript(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(script)
}

// maxPage is the largest answer the script goes into: a bigger one (a
// download served as HTML, a page that streams for ever) goes through as
// it is, without the script.
const maxPage = 16 << 20

// tag is the script tag a page gets: the identity of what served it rides
// in the URL, for the script to compare with what the events say.
func tag(id string) string {
	return `<script src="` + scriptPath + `?live=` + url.QueryEscape(id) + `"></script>`
}

// modify puts the script into an HTML answer, and a plain text or JSON
// answer the browser opened as a page into a minimal HTML page with the
// script. Everything else goes through untouched.
func (p *Proxy) modify(resp *http.Response) error {
	req := resp.Request
	if req.Method == http.MethodHead || resp.StatusCode < 200 || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		return nil
	}
	if enc := resp.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return nil // one the transport could not undo (br, zstd): left as it is
	}
	ct := resp.Header.Get("Content-Type")
	mt, params, _ := mime.ParseMediaType(ct)
	wrap := false
	switch {
	case mt == "text/html":
	case (mt == "text/plain" || mt == "application/json") && isNavigation(req):
		wrap = true
	default:
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage+1))
	if err != nil {
		return err
	}
	if len(body) > maxPage {
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		return nil
	}
	resp.Body.Close()
	id, _ := req.Context().Value(idKey{}).(string)
	if wrap {
		body = wrapPage(body, params["charset"], tag(id))
		resp.Header.Set("Content-Type", "text/html; charset="+charset(params["charset"]))
	} else {
		body = inject(body, tag(id))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	// A page the browser kept would carry the identity of what served it
	// then: reloaded from its cache, it would reload again, for ever.
	resp.Header.Set("Cache-Control", "no-store")
	resp.Header.Del("ETag")
	resp.Header.Del("Last-Modified")
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// inject puts the script tag before the page's last </body>, or at its end
// when it has none (a browser runs a script after </html> all the same).
func inject(page []byte, tag string) []byte {
	i := lastIndexFold(page, []byte("</body"))
	if i < 0 {
		i = len(page)
	}
	out := make([]byte, 0, len(page)+len(tag))
	out = append(out, page[:i]...)
	out = append(out, tag...)
	return append(out, page[i:]...)
}

// lastIndexFold is bytes.LastIndex, ASCII case folded.
func lastIndexFold(s, sep []byte) int {
	for i := len(s) - len(sep); i >= 0; i-- {
		if bytes.EqualFold(s[i:i+len(sep)], sep) {
			return i
		}
	}
	return -1
}

// wrapPage shows a plain text or JSON answer as the browser shows one,
// in a page that carries the script.
func wrapPage(body []byte, cs, tag string) []byte {
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html><html><head><meta charset="` + charset(cs) + `"><meta name="color-scheme" content="light dark"></head><body><pre style="word-wrap: break-word; white-space: pre-wrap;">`)
	b.WriteString(html.EscapeString(string(body)))
	b.WriteString("</pre>" + tag + "</body></html>")
	return b.Bytes()
}

func charset(cs string) string {
	if cs == "" {
		return "utf-8"
	}
	return html.EscapeString(cs)
}

// isNavigation reports whether the browser asked for r to show it as a
// page (typed in the address bar, a link, a reload), not for a script of
// the page (fetch, XMLHttpRequest), whose answers go through untouched.
func isNavigation(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Dest") {
	case "document", "iframe":
		return true
	case "":
		// A browser too old to say: a navigation asks for HTML first.
		return strings.HasPrefix(r.Header.Get("Accept"), "text/html")
	}
	return false
}

// waitingPage is what a page shows while no engine answers: why, and the
// script, which reloads it when one serves.
func waitingPage(why, id string) string {
	return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>hotrun: waiting for the engine</title>` +
		`<meta name="color-scheme" content="light dark"></head><body style="font: 15px/1.5 system-ui, sans-serif; margin: 3em">` +
		`<h1 style="font-size: 1.2em">Waiting for the engine</h1><p>hotrun's engine did not answer: ` + html.EscapeString(why) +
		`.</p><p>This page reloads by itself when an engine serves.</p>` + tag(id) + `</body></html>`
}
