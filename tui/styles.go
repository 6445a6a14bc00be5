package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// styles holds every style the screen uses, chosen once for a light or a
// dark background. Colours are downsampled by bubbletea to what the terminal
// supports, and dropped altogether when NO_COLOR is set, so nothing here
// needs to check the environment.
type styles struct {
	title   lipgloss.Style // "hotrun" in the header
	project lipgloss.Style
	label   lipgloss.Style // muted words: "engine", "build", column hints
	value   lipgloss.Style // emphasised values: pid, version
	good    lipgloss.Style
	warn    lipgloss.Style
	bad     lipgloss.Style
	info    lipgloss.Style
	muted   lipgloss.Style

	paneTitle      lipgloss.Style // title line of the unfocused pane
	paneTitleFocus lipgloss.Style // title line of the focused pane
	rule           lipgloss.Style // the line drawn after a pane title

	diagPos  lipgloss.Style // file:line:col of a diagnostic
	diagMsg  lipgloss.Style
	diagCode lipgloss.Style // the offending source line

	status2xx lipgloss.Style
	status3xx lipgloss.Style
	status4xx lipgloss.Style
	status5xx lipgloss.Style

	diffFile lipgloss.Style // "diff --git a/… b/…": where a file's part starts
	diffMeta lipgloss.Style // ---, +++ and index lines

	spinner lipgloss.Style
	help    help.Styles
}

// lipglossStyle is lipgloss.Style, for files that need no other lipgloss name.
type lipglossStyle = lipgloss.Style

func newStyles(isDark bool) styles {
	ld := lipgloss.LightDark(isDark)
	c := lipgloss.Color
	var (
		green  = ld(c("#008700"), c("#5fd75f"))
		yellow = ld(c("#af8700"), c("#ffd75f"))
		red    = ld(c("#d70000"), c("#ff5f5f"))
		cyan   = ld(c("#0087af"), c("#5fd7ff"))
		purple = ld(c("#5f00d7"), c("#af87ff"))
		fg     = ld(c("#1c1c1c"), c("#eeeeee"))
		muted  = ld(c("#6c6c6c"), c("#8a8a8a"))
		faint  = ld(c("#bcbcbc"), c("#4e4e4e"))
	)
	s := lipgloss.NewStyle
	return styles{
		title:   s().Bold(true).Foreground(purple),
		project: s().Bold(true).Foreground(fg),
		label:   s().Foreground(muted),
		value:   s().Bold(true).Foreground(fg),
		good:    s().Foreground(green),
		warn:    s().Foreground(yellow),
		bad:     s().Foreground(red),
		info:    s().Foreground(cyan),
		muted:   s().Foreground(muted),

		paneTitle:      s().Foreground(muted),
		paneTitleFocus: s().Bold(true).Foreground(purple),
		rule:           s().Foreground(faint),

		diagPos:  s().Bold(true).Foreground(fg),
		diagMsg:  s().Foreground(red),
		diagCode: s().Foreground(muted),

		status2xx: s().Foreground(green),
		status3xx: s().Foreground(cyan),
		status4xx: s().Foreground(yellow),
		status5xx: s().Bold(true).Foreground(red),

		diffFile: s().Bold(true).Foreground(fg).Background(faint),
		diffMeta: s().Bold(true).Foreground(fg),

		spinner: s().Foreground(purple),
		help:    help.DefaultStyles(isDark),
	}
}

// status returns the style of an HTTP status code's class.
func (s *styles) status(code int) lipgloss.Style {
	switch {
	case code >= 500:
		return s.status5xx
	case code >= 400:
		return s.status4xx
	case code >= 300:
		return s.status3xx
	default:
		return s.status2xx
	}
}
