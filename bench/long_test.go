package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The long session's readers of /proc and of hotrun's -pprof, on samples
// taken from a real hotrun (testdata/long).

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "long", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseGoroutineTotal(t *testing.T) {
	tests := []struct {
		name, body string
		want       int
		err        bool
	}{
		{"a real profile", string(readTestdata(t, "goroutine.txt")), 15, false},
		{"the first line alone", "goroutine profile: total 1234\n", 1234, false},
		{"not found", "404 page not found\n", 0, true},
		{"debug=0 (binary)", "\x1f\x8b\x08\x00", 0, true},
		{"no number", "goroutine profile: total \n", 0, true},
		{"empty", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseGoroutineTotal(tt.body)
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("parseGoroutineTotal = %d, %v; want %d, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestCountInotify(t *testing.T) {
	tests := []struct {
		name   string
		fdinfo []byte
		want   int
	}{
		{"hotrun's watcher", readTestdata(t, "fdinfo-inotify.txt"), 13},
		{"a plain file", readTestdata(t, "fdinfo-plain.txt"), 0},
		{"an inotify descriptor with no watch", []byte("pos:\t0\nflags:\t02004000\nmnt_id:\t17\nino:\t26\n"), 0},
		{"a word inside a line is no watch", []byte("flags: inotify wd:1\n"), 0},
		{"the last line without a newline", []byte("inotify wd:1 ino:2\ninotify wd:2 ino:3"), 2},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := countInotify(tt.fdinfo); got != tt.want {
				t.Errorf("countInotify = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		name   string
		status []byte
		want   int64
	}{
		{"hotrun's status", readTestdata(t, "status.txt"), 16040 << 10},
		{"a zombie has none", []byte("Name:\tengine\nState:\tZ (zombie)\n"), 0},
		{"another unit", []byte("VmRSS:\t12 MB\n"), 0},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseVmRSS(tt.status); got != tt.want {
				t.Errorf("parseVmRSS = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParsePIDs(t *testing.T) {
	tests := []struct {
		in   string
		want []int
	}{
		{"13813 \n", []int{13813}},
		{"1 2 3 ", []int{1, 2, 3}},
		{"", nil},
		{"4 x 0 5", []int{4, 5}},
	}
	for _, tt := range tests {
		if got := parsePIDs([]byte(tt.in)); !slices.Equal(got, tt.want) {
			t.Errorf("parsePIDs(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLongOptions(t *testing.T) {
	tests := []struct {
		args []string
		want []int // the checkpoints; nil for an error
	}{
		{[]string{"-long"}, []int{1, 100, 500, 1000}},
		{[]string{"-long", "-saves", "60"}, []int{1, 6, 30, 60}},
		{[]string{"-long", "-saves", "5"}, []int{1, 2, 5}},
		{[]string{"-long", "-saves", "1"}, []int{1}},
		{[]string{"-long", "-saves", "60", "-checkpoints", "1,20, 40,60"}, []int{1, 20, 40, 60}},
		{[]string{"-long", "-saves", "60", "-checkpoints", "20,10"}, nil},
		{[]string{"-long", "-saves", "60", "-checkpoints", "1,70"}, nil},
		{[]string{"-long", "-saves", "60", "-checkpoints", "0,10"}, nil},
		{[]string{"-long", "-saves", "0"}, nil},
		{[]string{"-long", "-short"}, nil},
	}
	for _, tt := range tests {
		o, err := parseOptions(tt.args, io.Discard)
		switch {
		case tt.want == nil && err == nil:
			t.Errorf("%q: no error, want one", tt.args)
		case tt.want != nil && err != nil:
			t.Errorf("%q: %v", tt.args, err)
		case tt.want != nil && (!o.long || !slices.Equal(o.checkpoints, tt.want)):
			t.Errorf("%q: long %v, checkpoints %v, want %v", tt.args, o.long, o.checkpoints, tt.want)
		}
	}
	if o, err := parseOptions(nil, io.Discard); err != nil || o.long {
		t.Errorf("the default run is long (%v) or fails: %v", o != nil && o.long, err)
	}
}
