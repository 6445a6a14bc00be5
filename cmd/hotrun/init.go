package main

import (
	"context"
	"errors"
	"io"
)

// runInit is `hotrun init`.
func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("init: not yet available")
}
