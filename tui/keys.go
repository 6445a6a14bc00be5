package tui

import "charm.land/bubbles/v2/key"

// keyMap is every key the screen answers to. It implements help.KeyMap, so
// the footer and the full help (?) are generated from the same bindings that
// Update matches: the help can never drift from the keys.
type keyMap struct {
	Rebuild  key.Binding
	Restart  key.Binding
	Rollback key.Binding
	Forward  key.Binding
	Versions key.Binding
	Diff     key.Binding

	// In the version list.
	Select   key.Binding // enter: diff against the version before
	Mark     key.Binding
	DiffMark key.Binding
	Activate key.Binding
	Back     key.Binding
	NextFile key.Binding // in a diff
	PrevFile key.Binding

	Clear  key.Binding
	Pause  key.Binding
	Filter key.Binding
	Focus  key.Binding

	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Home     key.Binding
	End      key.Binding

	Help key.Binding
	Quit key.Binding

	// Used only while the filter is being edited.
	Accept key.Binding
	Cancel key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Rebuild:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rebuild")),
		Restart:  key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "restart")),
		Rollback: key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "roll back")),
		Forward:  key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "forward")),
		Versions: key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "versions")),
		Diff:     key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "diff")),

		Select:   key.NewBinding(key.WithKeys("enter", "d"), key.WithHelp("enter", "diff")),
		Mark:     key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mark")),
		DiffMark: key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "diff vs mark")),
		Activate: key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "make live")),
		Back:     key.NewBinding(key.WithKeys("esc", "v"), key.WithHelp("esc", "back")),
		NextFile: key.NewBinding(key.WithKeys("n"), key.WithHelp("n/N", "file")),
		PrevFile: key.NewBinding(key.WithKeys("N")),

		Clear:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "clear pane")),
		Pause:  key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause pane")),
		Filter: key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Focus:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "focus")),

		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d", "space"), key.WithHelp("pgdn", "page down")),
		Home:     key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "oldest")),
		End:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "newest, follow")),

		Help: key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit: key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),

		Accept: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
	}
}

// ShortHelp is the footer: the keys a user needs most, in one line.
func (k keyMap) ShortHelp() []key.Binding {
	// It fits 80 columns: R and / are under ?.
	return []key.Binding{k.Versions, k.Diff, k.Rebuild, k.Rollback, k.Forward, k.Help, k.Quit}
}

// FullHelp is shown with ?: every key, grouped by what it acts on.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Versions, k.Diff, k.Rebuild, k.Restart, k.Rollback, k.Forward},
		{k.Clear, k.Pause, k.Filter, k.Focus},
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
		{k.Help, k.Quit},
	}
}

// filterKeys is the help shown while the filter is being edited.
type filterKeys struct{ k keyMap }

func (f filterKeys) ShortHelp() []key.Binding  { return []key.Binding{f.k.Accept, f.k.Cancel} }
func (f filterKeys) FullHelp() [][]key.Binding { return [][]key.Binding{f.ShortHelp()} }

// versionKeys is the help shown under the version list.
type versionKeys struct{ k keyMap }

func (v versionKeys) ShortHelp() []key.Binding {
	k := v.k
	// b and f work here too; the footer has no room for them at 80 columns.
	return []key.Binding{k.Select, k.Mark, k.DiffMark, k.Activate, k.Back, k.Quit}
}
func (v versionKeys) FullHelp() [][]key.Binding { return [][]key.Binding{v.ShortHelp()} }

// diffKeys is the help shown under a diff.
type diffKeys struct{ k keyMap }

func (d diffKeys) ShortHelp() []key.Binding {
	k := d.k
	return []key.Binding{k.Down, k.Up, k.PageDown, k.NextFile, k.Back, k.Quit}
}
func (d diffKeys) FullHelp() [][]key.Binding { return [][]key.Binding{d.ShortHelp()} }
