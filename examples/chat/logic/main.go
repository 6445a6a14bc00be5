// Command logic is the chat demo's logic: how a message looks, and the
// page. Edit Render while two tabs chat: both repaint at once, over the
// websocket they already have.
package main

import (
	_ "embed"
	"fmt"
	"html"

	"github.com/hotrun-dev/hotrun/examples/chat/chat"
)

//go:embed page.html
var page []byte

// Logic is the symbol the engine looks up.
var Logic chat.Logic = room{}

type room struct{}

func (room) Page() []byte { return page }

// Render is how a message looks on every page.
func (room) Render(m chat.Message) string {
	return fmt.Sprintf(`<span class="who">%s</span> %s`,
		html.EscapeString(m.Author), html.EscapeString(m.Text))
}

func main() {}
