// Command logic renders the templ app's page with templ components
// (views/*.templ, generated into views/*_templ.go by templ generate).
package main

import (
	"context"
	"io"

	"example.com/templapp/logic/views"
	"example.com/templapp/shared"
)

// Logic is the symbol the engine looks up.
var Logic shared.Logic = page{}

type page struct{}

func (page) Page(ctx context.Context, w io.Writer, name string, visits int) error {
	return views.Hello(name, visits).Render(ctx, w)
}

func main() {}
