package main

import (
	"bytes"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	p := &progress{label: "dedup", unit: "rows"}
	if got, want := p.line(150000, 0, 0, 3*time.Second), "dedup  150,000 rows  50,000 rows/s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	got := p.line(150000, 250, 1000, 3*time.Second)
	want := "dedup  150,000 rows  50,000 rows/s  [======                  ]  25%  9s left"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestProgressQuiet checks that nothing is drawn when the output is not a
// terminal (here a buffer, as for a pipe or a file).
func TestProgressQuiet(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, "clean", "rows")
	p.start = time.Now().Add(-time.Hour)
	p.Set(10, 1, 2)
	p.Done()
	if b.Len() != 0 {
		t.Errorf("drew %q", b.String())
	}
}

func TestGroupDigits(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := groupDigits(n); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
}
