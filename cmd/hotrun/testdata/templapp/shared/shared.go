// Package shared is the templ app's interface between engine and logic.
package shared

import (
	"context"
	"io"
)

// Logic renders the app's page.
type Logic interface {
	Page(ctx context.Context, w io.Writer, name string, visits int) error
}
