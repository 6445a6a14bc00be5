package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// sample is the durations of repeated runs of one figure.
type sample []time.Duration

func (s sample) sorted() sample {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// median is the middle run (the mean of the two middle ones for an even
// count); 0 for no runs.
func (s sample) median() time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := s.sorted()
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

// String is "median (min–max)", or the one value of a single run.
func (s sample) String() string {
	switch len(s) {
	case 0:
		return "—"
	case 1:
		return ms(s[0])
	}
	c := s.sorted()
	lo, hi := ms(c[0]), ms(c[len(c)-1])
	// "406–450 ms" rather than "406 ms–450 ms" when the units agree.
	if lu, hu := lo[strings.LastIndexByte(lo, ' '):], hi[strings.LastIndexByte(hi, ' '):]; lu == hu {
		lo = strings.TrimSuffix(lo, lu)
	}
	return fmt.Sprintf("%s (%s–%s)", ms(s.median()), lo, hi)
}

// ms formats d in milliseconds, three significant digits at most.
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case f >= 10000:
		return fmt.Sprintf("%.1f s", f/1000)
	case f >= 999.5: // not "1000 ms"
		return fmt.Sprintf("%.2f s", f/1000)
	case f >= 99.95:
		return fmt.Sprintf("%.0f ms", f)
	case f >= 10:
		return fmt.Sprintf("%.1f ms", f)
	}
	return fmt.Sprintf("%.2f ms", f)
}

// ratio is a ÷ b as "1.23 ×".
func ratio(a, b time.Duration) string {
	if a <= 0 || b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f ×", float64(a)/float64(b))
}

// mb formats a byte count in MB.
func mb(b int64) string {
	if b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f MB", float64(b)/(1<<20))
}
