package tui

import "testing"

func TestRing(t *testing.T) {
	tests := []struct {
		size, push int
		wantLen    int
		wantFirst  uint64
	}{
		{size: 5, push: 0, wantLen: 0, wantFirst: 0},
		{size: 5, push: 3, wantLen: 3, wantFirst: 0},
		{size: 5, push: 5, wantLen: 5, wantFirst: 0},
		{size: 5, push: 12, wantLen: 5, wantFirst: 7},
		{size: 100, push: 1000, wantLen: 100, wantFirst: 900},
		{size: 1, push: 3, wantLen: 1, wantFirst: 2},
	}
	for _, tt := range tests {
		r := newRing[int](tt.size)
		for i := range tt.push {
			r.push(i)
		}
		if r.len() != tt.wantLen || r.first() != tt.wantFirst {
			t.Errorf("size %d, %d pushed: len %d first %d, want %d %d", tt.size, tt.push, r.len(), r.first(), tt.wantLen, tt.wantFirst)
		}
		if cap(r.buf) > tt.size {
			t.Errorf("size %d: capacity %d", tt.size, cap(r.buf))
		}
		for s := r.first(); s < r.total; s++ {
			if got := *r.at(s); got != int(s) {
				t.Errorf("size %d, %d pushed: at(%d) = %d", tt.size, tt.push, s, got)
			}
		}
		if r.has(r.total) || (r.first() > 0 && r.has(r.first()-1)) {
			t.Errorf("size %d: has() beyond the held range", tt.size)
		}
	}
}

func TestRingClearKeepsNumbering(t *testing.T) {
	r := newRing[int](4)
	for i := range 6 {
		r.push(i)
	}
	r.clear()
	if r.len() != 0 || r.first() != 6 {
		t.Fatalf("after clear: len %d first %d", r.len(), r.first())
	}
	r.push(6)
	r.push(7)
	if r.first() != 6 || *r.at(7) != 7 {
		t.Errorf("after clear and push: first %d at(7) %d", r.first(), *r.at(7))
	}
}
