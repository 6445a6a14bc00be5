package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Progress keeps where a learner stands in each lab between runs: the
// step shown last, the steps done, and the lab's project. It is one JSON
// file, by default in the user's config directory.
type Progress struct {
	path string
	mu   sync.Mutex // orders the reads and writes of the file
}

// Record is where a learner stands in one lab.
type Record struct {
	Dir    string `json:"dir,omitempty"` // the lab's project
	Step   int    `json:"step"`          // the step shown last, from 1
	Passed []int  `json:"passed,omitempty"`
}

// ProgressFile is the default place of the progress file:
// $XDG_CONFIG_HOME/hotrun/labs.json on Linux, the same under
// ~/Library/Application Support on macOS.
func ProgressFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("lab: where to keep progress: %w", err)
	}
	return filepath.Join(dir, "hotrun", "labs.json"), nil
}

// OpenProgress returns the progress kept in the file at path, which need
// not exist yet.
func OpenProgress(path string) *Progress { return &Progress{path: path} }

// Path is the progress file.
func (p *Progress) Path() string { return p.path }

// All returns every lab's record, by name; none when the file does not
// exist yet.
func (p *Progress) All() (map[string]Record, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.read()
}

func (p *Progress) read() (map[string]Record, error) {
	var f struct {
		Labs map[string]Record `json:"labs"`
	}
	b, err := os.ReadFile(p.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Record{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: progress: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("lab: progress %s: %w", p.path, err)
	}
	if f.Labs == nil {
		f.Labs = map[string]Record{}
	}
	return f.Labs, nil
}

// Get returns the record of the lab named name; a zero one when there is
// none, or the file can't be read.
func (p *Progress) Get(name string) Record {
	all, err := p.All()
	if err != nil {
		return Record{}
	}
	return all[name]
}

// Put keeps rec as the lab's record, and Forget drops it: the file is
// written anew, in one rename.
func (p *Progress) Put(name string, rec Record) error {
	return p.change(func(all map[string]Record) { all[name] = rec })
}

// Forget drops the lab's record.
func (p *Progress) Forget(name string) error {
	return p.change(func(all map[string]Record) { delete(all, name) })
}

func (p *Progress) change(f func(map[string]Record)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	all, err := p.read()
	if err != nil {
		all = map[string]Record{} // a broken file is replaced, not kept forever
	}
	f(all)
	b, err := json.MarshalIndent(struct {
		Labs map[string]Record `json:"labs"`
	}{all}, "", "  ")
	if err != nil {
		return fmt.Errorf("lab: progress: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p.path), 0o755); err != nil {
		return fmt.Errorf("lab: progress: %w", err)
	}
	tmp := p.path + ".new"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("lab: progress: %w", err)
	}
	if err := os.Rename(tmp, p.path); err != nil {
		return fmt.Errorf("lab: progress: %w", err)
	}
	return nil
}
