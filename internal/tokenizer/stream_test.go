package tokenizer

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// streamAll feeds ids one by one to a StreamDecoder and returns everything it
// printed; it fails the caller's expectations by returning a marker when a
// piece is invalid UTF-8.
func streamAll(tok *Tokenizer, ids []int) string {
	d := tok.NewStreamDecoder()
	var b strings.Builder
	for _, id := range ids {
		s := d.Add(id)
		if !utf8.ValidString(s) {
			return "<invalid UTF-8 piece " + s + ">"
		}
		b.WriteString(s)
	}
	b.WriteString(d.Flush())
	return b.String()
}

func TestStreamDecoder(t *testing.T) {
	tok := loadLlama2CTokenizer(t)
	// The four byte-fallback tokens of "🙂" print nothing until the last.
	ids := tok.Encode("Hi 🙂!", true, false)
	d := tok.NewStreamDecoder()
	var pieces []string
	for _, id := range ids {
		s := d.Add(id)
		if !utf8.ValidString(s) {
			t.Fatalf("Add(%d) returned invalid UTF-8 %q", id, s)
		}
		pieces = append(pieces, s)
	}
	if rest := d.Flush(); rest != "" {
		t.Errorf("Flush() = %q, want nothing left", rest)
	}
	if got := strings.Join(pieces, ""); got != "Hi 🙂!" || got != tok.Decode(ids) {
		t.Errorf("stream = %q, Decode = %q, want %q", got, tok.Decode(ids), "Hi 🙂!")
	}
	held := 0
	for _, p := range pieces {
		if p == "" {
			held++
		}
		if strings.ContainsRune(p, '🙂') && p != "🙂" && p != " 🙂" {
			t.Errorf("emoji printed with %q", p)
		}
	}
	if held < 4 { // BOS and three of the four emoji bytes
		t.Errorf("pieces %q: want at least 4 empty (BOS and held-back bytes)", pieces)
	}

	cases := []struct {
		name string
		ids  []int
	}{
		{"BOS then text", tok.Encode("Once upon a time", true, false)},
		{"no BOS", tok.Encode("Once upon a time", false, false)},
		{"two BOS", append(tok.Encode("Once", true, false), tok.Encode("upon", true, false)...)},
		{"emoji only", tok.Encode("🙂🚀", false, false)},
		{"CJK", tok.Encode("世界 héllo", true, true)},
	}
	for _, c := range cases {
		if got, want := streamAll(tok, c.ids), tok.Decode(c.ids); got != want {
			t.Errorf("%s: stream %q, Decode %q", c.name, got, want)
		}
	}

	// Bytes that never form a character come out as U+FFFD, one per byte,
	// and a character cut short is flushed the same way.
	bad := []int{3 + 0xF0, 3 + 0x9F, 3 + 'a', 3 + 0x80, 3 + 0xE2, 3 + 0x96}
	if got, want := streamAll(tok, bad), string([]rune(tok.Decode(bad))); got != want {
		t.Errorf("invalid bytes: stream %q, want %q", got, want)
	}
	if want := "\uFFFD\uFFFDa\uFFFD\uFFFD\uFFFD"; streamAll(tok, bad) != want {
		t.Errorf("invalid bytes: stream %q, want %q", streamAll(tok, bad), want)
	}
}

// TestStreamContinuation shows how to print only the generated part: feed
// the prompt first and drop its text, so the first generated piece keeps its
// leading space.
func TestStreamContinuation(t *testing.T) {
	tok := loadLlama2CTokenizer(t)
	prompt := tok.Encode("Once upon a time", true, false)
	gen := tok.Encode("Once upon a time there was", true, false)[len(prompt):]
	d := tok.NewStreamDecoder()
	for _, id := range prompt {
		d.Add(id)
	}
	var b strings.Builder
	for _, id := range gen {
		b.WriteString(d.Add(id))
	}
	b.WriteString(d.Flush())
	if got := b.String(); got != " there was" {
		t.Errorf("continuation = %q, want %q", got, " there was")
	}
}
