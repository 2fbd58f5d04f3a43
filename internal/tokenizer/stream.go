package tokenizer

import (
	"unicode/utf8"
)

// StreamDecoder turns ids into text one at a time while a model generates,
// so that what it returns is safe to print at once: it never returns part of
// a UTF-8 character (byte-fallback tokens of one character are held back
// until the character is complete) and, like Decode, drops the leading space
// SentencePiece put in front of the first piece (at the start, or right
// after BOS).
//
// The concatenation of everything Add and Flush return equals Decode of the
// same ids with each invalid byte replaced by U+FFFD (as string([]rune(s))
// replaces them); for ids that decode to valid UTF-8 it equals Decode.
//
// To print only a continuation of a prompt, Add the prompt ids first and
// discard what they return, so the first generated piece keeps its space.
type StreamDecoder struct {
	t       *Tokenizer
	started bool   // an id has been added
	prev    int    // the last id added
	pending []byte // bytes of an incomplete UTF-8 character
}

// NewStreamDecoder returns a decoder at the start of a text.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder {
	return &StreamDecoder{t: t, prev: -1}
}

// Add takes the next id and returns the text that is now complete (possibly "").
func (d *StreamDecoder) Add(id int) string {
	first := !d.started || (d.prev == d.t.bos && d.t.bos >= 0)
	d.started, d.prev = true, id
	d.pending = append(d.pending, d.t.renderAt(id, first)...)
	return d.drain(false)
}

// Flush returns the bytes still held back, each invalid byte (such as an
// unfinished character) rendered as U+FFFD.
func (d *StreamDecoder) Flush() string {
	return d.drain(true)
}

// drain returns the complete characters at the front of pending (all of it
// when final) and keeps the rest.
func (d *StreamDecoder) drain(final bool) string {
	p := d.pending
	if utf8.Valid(p) {
		d.pending = p[:0]
		return string(p)
	}
	out := make([]byte, 0, len(p)+4)
	i := 0
	for i < len(p) {
		if !final && !utf8.FullRune(p[i:]) {
			break // wait for the rest of this character
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, p[i:i+size]...)
		}
		i += size
	}
	d.pending = append(p[:0], p[i:]...)
	return string(out)
}
