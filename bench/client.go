package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var (
	versionRE = regexp.MustCompile(`modelVersion = \d+`)
	answerRE  = regexp.MustCompile(`version=(\d+),.*visits=(\d+)$`)
)

// setVersion is the one-line edit: modelVersion = v in file. It returns the
// time the write finished, where save-to-live starts.
func setVersion(file string, v int) (time.Time, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return time.Time{}, err
	}
	if !versionRE.Match(b) {
		return time.Time{}, fmt.Errorf("edit %s: no modelVersion = N line", file)
	}
	// Saving the same version again is a save too (an edit a tool missed).
	nb := versionRE.ReplaceAll(b, []byte("modelVersion = "+strconv.Itoa(v)))
	if err := os.WriteFile(file, nb, 0o644); err != nil {
		return time.Time{}, err
	}
	return time.Now(), nil
}

// answer parses the example's answer: the model version and the visits.
func answer(body string) (version, visits int, ok bool) {
	m := answerRE.FindStringSubmatch(body)
	if m == nil {
		return 0, 0, false
	}
	version, _ = strconv.Atoi(m[1])
	visits, _ = strconv.Atoi(m[2])
	return version, visits, true
}

// pollClient asks on a new connection each time, so a refused connection
// shows as one.
var pollClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

func get(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return "", err
	}
	resp, err := pollClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), err
}

// untilVersion polls url every 5 ms until it answers with version v, and
// returns when it did.
func untilVersion(ctx context.Context, url string, v int, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		body, err := get(ctx, url)
		if got, _, ok := answer(body); err == nil && ok && got == v {
			return time.Now(), nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = body
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return time.Time{}, fmt.Errorf("%s did not answer version %d within %s (last: %s)", url, v, limit, last)
}

// steady is a steady client: one request at a time, each on a new
// connection, a pause apart (2 ms unless started paced), until stopped or
// its bound is reached (200 000 requests unless paced).
type steady struct {
	sent, failed atomic.Int64
	version      atomic.Int64 // the model version of the last answer
	resets       atomic.Int64 // answers whose visits went down: state lost
	visits       atomic.Int64 // the visits of the last answer
	dropped      atomic.Int64 // visits lost at the resets: how far back each went
	gap          atomic.Int64 // the longest time with no answer, in ns
	stepGap      atomic.Int64 // the same since the bench last reset it (one step of a run)
	down         atomic.Int64 // the time with no answer, summed over the spells of more than downAfter, in ns
	mu           sync.Mutex   // guards errs
	errs         []string     // the first failures, for the report
	stop, done   chan struct{}
}

// downAfter is the longest spell with no answer that counts as serving:
// a few of the client's pauses and round trips on a busy machine.
const downAfter = 50 * time.Millisecond

func startSteady(url string) *steady { return startPaced(url, 2*time.Millisecond, 200_000) }

// startPaced starts a steady client that pauses pause after each answer
// and stops after bound requests.
func startPaced(url string, pause time.Duration, bound int) *steady {
	c := &steady{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		last, visits := time.Now(), 0
		for range bound {
			select {
			case <-c.stop:
				return
			default:
			}
			body, err := get(context.Background(), url)
			c.sent.Add(1)
			now := time.Now()
			v, n, ok := answer(body)
			if err == nil && !ok {
				err = fmt.Errorf("answer %q", body)
			}
			if err != nil {
				c.failed.Add(1)
				c.mu.Lock()
				if len(c.errs) < 3 && !slices.Contains(c.errs, err.Error()) {
					c.errs = append(c.errs, err.Error())
				}
				c.mu.Unlock()
			} else {
				d := int64(now.Sub(last))
				if d > c.gap.Load() {
					c.gap.Store(d)
				}
				if d > c.stepGap.Load() {
					c.stepGap.Store(d)
				}
				if d > int64(downAfter) {
					c.down.Add(d)
				}
				last = now
				c.version.Store(int64(v))
				if n < visits {
					c.resets.Add(1)
					c.dropped.Add(int64(visits - n + 1))
				}
				visits = n
				c.visits.Store(int64(n))
			}
			time.Sleep(pause)
		}
	}()
	return c
}

// waitVersion waits until the client has seen version v.
func (c *steady) waitVersion(ctx context.Context, v int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for c.version.Load() != int64(v) {
		if time.Now().After(deadline) {
			return fmt.Errorf("steady client saw no version %d within %s", v, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return fmt.Errorf("steady client stopped (request bound reached)")
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func (c *steady) finish() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
}

// freeAddr is a free loopback port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// poll asks url every 5 ms, as untilVersion does while a tool reloads,
// until the returned stop is called: the client a floor is measured under.
func poll(url string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			get(ctx, url)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); <-done }
}
