package runner

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// readLines calls fn with each line of r until r ends. A line longer than
// max is cut to its first max bytes, with a marker that says how much was
// left out, and reading goes on with the next line: one huge line must not
// silence the engine for the rest of its life.
func readLines(r io.Reader, max int, fn func(string)) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		var line []byte
		cut := 0
		for {
			chunk, err := br.ReadSlice('\n')
			room := max - len(line)
			switch {
			case room >= len(chunk):
				line = append(line, chunk...)
			case room > 0:
				line = append(line, chunk[:room]...)
				cut += len(chunk) - room
			default:
				cut += len(chunk)
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if len(line) > 0 || cut > 0 {
				text := strings.TrimRight(string(line), "\r\n")
				if cut > 0 {
					text += fmt.Sprintf(" … [line cut: %d more bytes]", cut-trailingNewline(line, chunk))
				}
				fn(text)
			}
			if err != nil {
				return
			}
			break
		}
	}
}

// trailingNewline is 1 when the newline that ended a cut line was counted
// in the bytes cut.
func trailingNewline(line, last []byte) int {
	if len(last) > 0 && last[len(last)-1] == '\n' && (len(line) == 0 || line[len(line)-1] != '\n') {
		return 1
	}
	return 0
}

// lastWords keeps the last lines an engine wrote: when it dies, they say
// why (a bind error, a log.Fatal) better than its exit code.
type lastWords struct {
	mu    sync.Mutex // guards lines; both output readers add to it
	max   int
	lines []string
}

func (w *lastWords) add(line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, line)
	if len(w.lines) > w.max {
		w.lines = w.lines[len(w.lines)-w.max:]
	}
}

// String returns the last lines, most recent last, on one line. Lines that
// only announce what the engine does (serving on …) say nothing about a
// death, but they are cheap and kept: the last one is what matters.
func (w *lastWords) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.lines) == 0 {
		return ""
	}
	return w.lines[len(w.lines)-1]
}
