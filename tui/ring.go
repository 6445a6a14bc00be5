package tui

// ring is a fixed-capacity list that overwrites its oldest element when full,
// so the request log's memory is bounded whatever the request rate. Every
// element gets a sequence number (its position in the whole history) so that
// a scrolled view can stay anchored to a line while new lines arrive and old
// ones fall off.
type ring[T any] struct {
	buf   []T // grows up to size, then is reused in place
	size  int
	start int    // index in buf of the oldest element
	n     int    // elements held
	total uint64 // elements ever pushed: the sequence number of the next push
}

func newRing[T any](size int) *ring[T] {
	if size < 1 {
		size = 1
	}
	return &ring[T]{size: size}
}

// push appends v, dropping the oldest element when the ring is full.
func (r *ring[T]) push(v T) {
	switch {
	case len(r.buf) < r.size:
		// Grow lazily, so a quiet session never pays for the whole ring,
		// but never past size: append alone would overshoot it.
		if len(r.buf) == cap(r.buf) {
			nb := make([]T, len(r.buf), min(r.size, max(64, 2*cap(r.buf))))
			copy(nb, r.buf)
			r.buf = nb
		}
		r.buf = append(r.buf, v)
		r.n++
	case r.n < r.size:
		r.buf[(r.start+r.n)%r.size] = v
		r.n++
	default:
		r.buf[r.start] = v
		r.start = (r.start + 1) % r.size
	}
	r.total++
}

// len reports how many elements the ring holds.
func (r *ring[T]) len() int { return r.n }

// first is the sequence number of the oldest element held.
func (r *ring[T]) first() uint64 { return r.total - uint64(r.n) }

// has reports whether the element with sequence number seq is still held.
func (r *ring[T]) has(seq uint64) bool { return seq >= r.first() && seq < r.total }

// at returns the element with sequence number seq; the caller checks has.
func (r *ring[T]) at(seq uint64) *T {
	i := int(seq - r.first())
	return &r.buf[(r.start+i)%len(r.buf)]
}

// clear forgets every element but keeps counting, so that sequence numbers
// never repeat.
func (r *ring[T]) clear() {
	clear(r.buf)
	r.buf = r.buf[:0]
	r.start, r.n = 0, 0
}
