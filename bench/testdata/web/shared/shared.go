// Package shared is the web project's interface between engine and logic.
package shared

import "io"

// Logic renders the project's page.
type Logic interface {
	Page(w io.Writer, name string, visits int) error
}
