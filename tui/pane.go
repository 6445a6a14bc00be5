package tui

// pane is a scrollable window over a ring. It follows the tail (the newest
// line at the bottom) until the user scrolls up or pauses; from then on it is
// anchored to the sequence number of its bottom line, so new lines arriving
// at 10 000 a second do not move what the user is reading.
type pane[T any] struct {
	lines  *ring[T]
	follow bool   // show the newest lines
	anchor uint64 // when !follow: sequence number of the bottom line
	paused bool   // stay anchored even at the bottom
}

func newPane[T any](size int) pane[T] {
	return pane[T]{lines: newRing[T](size), follow: true}
}

// matchFunc reports whether a line passes the pane's filter; nil passes all.
type matchFunc[T any] func(*T) bool

func (p *pane[T]) ok(seq uint64, match matchFunc[T]) bool {
	return match == nil || match(p.lines.at(seq))
}

// prev returns the nearest matching sequence number before seq.
func (p *pane[T]) prev(seq uint64, match matchFunc[T]) (uint64, bool) {
	for s := seq; s > p.lines.first(); {
		s--
		if p.ok(s, match) {
			return s, true
		}
	}
	return 0, false
}

// next returns the nearest matching sequence number after seq.
func (p *pane[T]) next(seq uint64, match matchFunc[T]) (uint64, bool) {
	for s := seq + 1; s < p.lines.total; s++ {
		if p.ok(s, match) {
			return s, true
		}
	}
	return 0, false
}

// bottom is the sequence number the view is anchored to: the newest line
// when following, else the anchor, clamped to the lines still held.
func (p *pane[T]) bottom() uint64 {
	r := p.lines
	if r.len() == 0 {
		return r.total
	}
	if p.follow || p.anchor >= r.total {
		return r.total - 1
	}
	return max(p.anchor, r.first())
}

// visible returns the sequence numbers of the lines to show, oldest first, at
// most h of them. If fewer than h lines lie at or above the bottom (the view
// was scrolled to the top, or its anchor fell off the ring), it fills the
// rest with the lines below, so the window stays full.
func (p *pane[T]) visible(h int, match matchFunc[T], dst []uint64) []uint64 {
	dst = dst[:0]
	r := p.lines
	if h <= 0 || r.len() == 0 {
		return dst
	}
	b := p.bottom()
	if p.ok(b, match) {
		dst = append(dst, b)
	}
	for s := b; len(dst) < h; {
		var ok bool
		if s, ok = p.prev(s, match); !ok {
			break
		}
		dst = append(dst, s)
	}
	// dst is newest first; reverse it.
	for i, j := 0, len(dst)-1; i < j; i, j = i+1, j-1 {
		dst[i], dst[j] = dst[j], dst[i]
	}
	for s := b; len(dst) < h; {
		var ok bool
		if s, ok = p.next(s, match); !ok {
			break
		}
		dst = append(dst, s)
	}
	return dst
}

// up scrolls n matching lines towards the oldest, never further than the
// point where the window shows the h oldest matching lines.
func (p *pane[T]) up(n, h int, match matchFunc[T]) {
	if p.lines.len() == 0 {
		return
	}
	s := p.bottom()
	for ; n > 0; n-- {
		t, ok := p.prev(s, match)
		if !ok {
			break
		}
		s = t
	}
	p.follow, p.anchor = false, max(s, p.top(h, match))
}

// top is the lowest useful anchor: the h-th matching line from the oldest.
func (p *pane[T]) top(h int, match matchFunc[T]) uint64 {
	r := p.lines
	s, seen := r.first(), 0
	for t := r.first(); t < r.total; t++ {
		if p.ok(t, match) {
			s = t
			if seen++; seen >= h {
				break
			}
		}
	}
	return s
}

// down scrolls n matching lines towards the newest; reaching the newest line
// resumes following unless the pane is paused.
func (p *pane[T]) down(n int, match matchFunc[T]) {
	if p.follow {
		return
	}
	s := p.bottom()
	for ; n > 0; n-- {
		t, ok := p.next(s, match)
		if !ok {
			break
		}
		s = t
	}
	p.anchor = s
	if _, more := p.next(s, match); !more && !p.paused {
		p.follow = true
	}
}

// home shows the oldest lines.
func (p *pane[T]) home(h int, match matchFunc[T]) {
	if p.lines.len() == 0 {
		return
	}
	p.follow, p.anchor = false, p.top(h, match)
}

// end shows the newest lines and follows them again.
func (p *pane[T]) end() { p.follow, p.paused = true, false }

// pause freezes the view where it is (or resumes following).
func (p *pane[T]) togglePause() {
	if p.paused {
		p.end()
		return
	}
	p.anchor = p.bottom()
	p.follow, p.paused = false, true
}

// newer counts the lines that arrived below the view while it was anchored.
func (p *pane[T]) newer() uint64 {
	if p.follow || p.lines.len() == 0 {
		return 0
	}
	return p.lines.total - 1 - p.bottom()
}

// reset forgets every line.
func (p *pane[T]) reset() {
	p.lines.clear()
	p.follow, p.paused = true, false
}
