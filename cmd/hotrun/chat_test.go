package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hotrun-dev/hotrun/event"
)

// chatCopy copies ../../examples/chat to a scratch module using this
// repository's hot.
func chatCopy(t *testing.T) string { return moduleCopy(t, "../../examples/chat") }

// tab is one browser tab of the chat.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string
}

func openTab(t *testing.T, parent context.Context, url, name string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent) // a new tab in the same browser
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"?name="+name)); err != nil {
		t.Fatalf("open %s's tab: %v", name, err)
	}
	return &tab{t: t, ctx: ctx, name: name}
}

// say types a message and presses enter, as a person does.
func (tb *tab) say(text string) {
	tb.t.Helper()
	c, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(c, chromedp.SendKeys(chromedp.CSS("#text"), text+"\r")); err != nil {
		tb.t.Fatalf("%s says %q: %v", tb.name, text, err)
	}
}

// until polls the tab until ok holds for the messages it shows (each
// one's HTML) and the times its websocket connected.
func (tb *tab) until(d time.Duration, what string, ok func(msgs []string, connects int) bool) time.Time {
	tb.t.Helper()
	deadline := time.Now().Add(d)
	var msgs []string
	var connects int
	for time.Now().Before(deadline) {
		c, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
		var err error
		msgs, err = chromedp.Run(c, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#log li")].map(li => li.innerHTML)`))
		if err == nil {
			connects, err = chromedp.Run(c, chromedp.Evaluate[int](`window.chat ? window.chat.connects : 0`))
		}
		cancel()
		if err == nil && ok(msgs, connects) {
			return time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.t.Fatalf("%s's tab never showed %s within %s: messages %q, connected %d times", tb.name, what, d, msgs, connects)
	return time.Time{}
}

func all(msgs []string, f func(string) bool) bool {
	for _, m := range msgs {
		if !f(m) {
			return false
		}
	}
	return true
}

// TestChatDemo is the chat demo of examples/chat, in a real browser, as
// its README tells it: two tabs chat; an edit of how messages render
// repaints both at once, over the websockets they have (nobody
// reconnects), history kept; a change to the shared package hands over to
// a new engine, which cuts the websockets: both pages reconnect by
// themselves and show the whole history, and the chat goes on.
func TestChatDemo(t *testing.T) {
	ctx := browser(t) // skips under -short, and without chromium
	s := runSession(t, chatCopy(t), freeAddr(t), "-fresh")
	start := waitFor[event.EngineStart](s, buildWait, nil)
	waitFor(s, loadWait, liveIs(1))

	url := "http://" + s.addr + "/"
	ada, bob := openTab(t, ctx, url, "ada"), openTab(t, ctx, url, "bob")
	for _, tb := range []*tab{ada, bob} {
		tb.until(10*time.Second, "a connection", func(_ []string, n int) bool { return n == 1 })
	}
	ada.say("hello from ada")
	bob.until(5*time.Second, "ada's message", func(m []string, _ int) bool { return len(m) == 1 && strings.Contains(m[0], "hello from ada") })
	bob.say("hi ada")
	ada.until(5*time.Second, "bob's message", func(m []string, _ int) bool { return len(m) == 2 && strings.Contains(m[1], "hi ada") })

	s.edit("logic/main.go", replace(`<span class="who">%s</span> %s`, `<b class="who">%s</b> says: %s`))
	_, liveAt := waitRecord(s, buildWait, liveIs(2))
	for _, tb := range []*tab{ada, bob} {
		seen := tb.until(5*time.Second, "every message repainted by v2, on the same websocket", func(m []string, n int) bool {
			return len(m) == 2 && all(m, func(h string) bool { return strings.Contains(h, "says:") }) && n == 1
		})
		t.Logf("%s's tab repainted %s after v2 went live", tb.name, seen.Sub(liveAt).Round(time.Millisecond))
		if d := seen.Sub(liveAt); d > time.Second {
			t.Errorf("%s's tab repainted %s after v2 went live, want within a second", tb.name, d)
		}
	}

	// A change to the shared package: a new engine takes over and cuts the
	// websockets; the pages reconnect and get the history back.
	s.edit("chat/chat.go", replace("const maxHistory = 500", "const maxHistory = 400"))
	next := waitFor(s, buildWait, func(e event.EngineStart) bool { return e.PID != start.PID })
	cut := waitFor(s, loadWait, func(e event.RequestCut) bool { return e.Hijacked })
	t.Logf("handover to pid %d cut %s %s after %s", next.PID, cut.Method, cut.Path, cut.Duration)
	for _, tb := range []*tab{ada, bob} {
		tb.until(10*time.Second, "the history after reconnecting", func(m []string, n int) bool {
			return n == 2 && len(m) == 2 && strings.Contains(m[0], "hello from ada") && strings.Contains(m[1], "says: hi ada")
		})
	}
	bob.say("still here")
	ada.until(5*time.Second, "bob's message on the new engine", func(m []string, _ int) bool {
		return len(m) == 3 && strings.Contains(m[2], "<b class=\"who\">bob</b> says: still here")
	})
}
