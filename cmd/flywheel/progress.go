package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress draws one line on a terminal: what is being done, how many units
// so far and how fast, and a bar with the time left when the total is
// known. It draws nothing when w is not a terminal (a pipe, a file, a
// test), nor in the first second, so short runs stay quiet. Any command
// with long work can use it:
//
//	p := newProgress(stderr, "clean", "rows", 0)
//	for ... { p.Set(rows, bytesDone, bytesTotal) }
//	p.Done()
type progress struct {
	w       io.Writer
	label   string
	unit    string
	enabled bool
	start   time.Time
	last    time.Time
	drawn   bool
	mu      sync.Mutex
}

// progressEvery is how often the line is redrawn.
const progressEvery = 200 * time.Millisecond

// newProgress returns a progress line for w labelled label, counting unit
// ("rows", "tokens").
func newProgress(w io.Writer, label, unit string) *progress {
	return &progress{w: w, label: label, unit: unit, enabled: isTerminal(w), start: time.Now()}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Set reports n units done; done and total (any unit, such as bytes read of
// bytes to read; total 0 when unknown) drive the bar.
func (p *progress) Set(n, done, total int64) {
	if !p.enabled {
		return
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.start) < time.Second || now.Sub(p.last) < progressEvery {
		return
	}
	p.last = now
	p.drawn = true
	fmt.Fprint(p.w, "\r\x1b[K"+p.line(n, done, total, now.Sub(p.start)))
}

func (p *progress) line(n, done, total int64, elapsed time.Duration) string {
	rate := float64(n) / elapsed.Seconds()
	s := fmt.Sprintf("%s  %s %s  %s %s/s", p.label, groupDigits(n), p.unit, groupDigits(int64(rate)), p.unit)
	if total <= 0 || done <= 0 {
		return s
	}
	frac := min(1, float64(done)/float64(total))
	const width = 24
	filled := int(frac * width)
	left := time.Duration(float64(elapsed) * (1 - frac) / frac).Round(time.Second)
	return fmt.Sprintf("%s  [%s%s] %3.0f%%  %s left", s, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), 100*frac, left)
}

// Done clears the line.
func (p *progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// groupDigits writes 1234567 as 1,234,567.
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + groupDigits(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
