package dataset

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// synth makes reproducible synthetic records for dedup tests and benchmarks.
type synth struct{ rng *rand.Rand }

func newSynth(seed uint64) *synth { return &synth{rng: rand.New(rand.NewPCG(seed, seed^0x5eed))} }

var synthWords = strings.Fields(`the of and to in is was that for it with as his on be at by had are but from or
have an they which one you were all her she there would their we him been has when who will no more if out so up
said what its about than into them can only other time new some could these two may first then do any like my now
over such our man me even most made after also did many before must through back years where much your way well down
should because each just those people how too little state good very make world still own see men work long get here
between both life being under never day same another know while last might us great old year off come since against
go came right used take three river mountain garden library station kitchen window letter engine market winter summer
doctor teacher farmer painter village bridge forest island harbor castle lantern pocket silver copper marble velvet
quickly slowly softly loudly bright quiet heavy narrow gentle sudden ancient modern hidden golden frozen broken`)

// words returns n random words.
func (s *synth) words(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = synthWords[s.rng.IntN(len(synthWords))]
	}
	return out
}

// english returns about size bytes of random English-like text.
func (s *synth) english(size int) string {
	var b strings.Builder
	for b.Len() < size {
		w := s.words(8 + s.rng.IntN(10))
		w[0] = strings.ToUpper(w[0][:1]) + w[0][1:]
		b.WriteString(strings.Join(w, " "))
		b.WriteString(". ")
	}
	return strings.TrimSpace(b.String())
}

// chinese returns about size bytes of random text over 2,500 common Han characters.
func (s *synth) chinese(size int) string {
	var b strings.Builder
	for b.Len() < size {
		for i := 0; i < 12+s.rng.IntN(10); i++ {
			b.WriteRune(rune(0x4e00 + s.rng.IntN(2500)))
		}
		b.WriteString("。")
	}
	return b.String()
}

// edit returns a copy of text with about rate of its words (or characters,
// for Chinese) replaced, deleted or inserted.
func (s *synth) edit(text string, rate float64, chinese bool) string {
	if chinese {
		rs := []rune(text)
		var out []rune
		for _, r := range rs {
			if s.rng.Float64() >= rate {
				out = append(out, r)
				continue
			}
			switch s.rng.IntN(3) {
			case 0: // replace
				out = append(out, rune(0x4e00+s.rng.IntN(2500)))
			case 1: // delete
			case 2: // insert
				out = append(out, r, rune(0x4e00+s.rng.IntN(2500)))
			}
		}
		return string(out)
	}
	ws := strings.Split(text, " ")
	var out []string
	for _, w := range ws {
		if s.rng.Float64() >= rate {
			out = append(out, w)
			continue
		}
		switch s.rng.IntN(3) {
		case 0:
			out = append(out, s.words(1)[0])
		case 1:
		case 2:
			out = append(out, w, s.words(1)[0])
		}
	}
	return strings.Join(out, " ")
}

// example makes an alpaca-like SFT example around ~size bytes.
func (s *synth) example(size int, chinese bool) Example {
	text := s.english
	if chinese {
		text = s.chinese
	}
	return Example{Messages: []Message{
		{Role: RoleUser, Content: text(size / 4)},
		{Role: RoleAssistant, Content: text(size * 3 / 4)},
	}}
}

// editExample edits every message of ex.
func (s *synth) editExample(ex Example, rate float64, chinese bool) Example {
	out := Example{Messages: make([]Message, len(ex.Messages))}
	for i, m := range ex.Messages {
		out.Messages[i] = Message{Role: m.Role, Content: s.edit(m.Content, rate, chinese)}
	}
	return out
}

// TestWriteSynthetic writes a large synthetic JSONL file for measuring the
// command line (not run unless FLYWHEEL_SYNTH_OUT names the file):
//
//	FLYWHEEL_SYNTH_OUT=/tmp/synth.jsonl FLYWHEEL_SYNTH_N=1000000 go test ./internal/dataset -run TestWriteSynthetic
//
// Records are alpaca, about 500 bytes, 80% English and 20% Chinese; 5% are
// exact copies (changed case and spacing) and 10% edited copies of an
// earlier record, and 2% carry an e-mail address or a phone number.
func TestWriteSynthetic(t *testing.T) {
	path := os.Getenv("FLYWHEEL_SYNTH_OUT")
	if path == "" {
		t.Skip("set FLYWHEEL_SYNTH_OUT (and FLYWHEEL_SYNTH_N) to write a synthetic data set")
	}
	n := 1000000
	if v := os.Getenv("FLYWHEEL_SYNTH_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := NewWriter(bw, WriterOptions{Format: FormatAlpaca, JSONL: true})
	s := newSynth(1)
	recent := make([]Example, 0, 1000)
	for i := 0; i < n; i++ {
		ex := s.syntheticRecord(i, recent)
		if len(recent) < cap(recent) {
			recent = append(recent, ex)
		} else {
			recent[s.rng.IntN(len(recent))] = ex
		}
		if err := w.Write(&ex); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

func (s *synth) syntheticRecord(i int, recent []Example) Example {
	chinese := s.rng.IntN(5) == 0
	p := s.rng.Float64()
	switch {
	case len(recent) > 0 && p < 0.05:
		src := recent[s.rng.IntN(len(recent))]
		return Example{Messages: []Message{
			{Role: RoleUser, Content: strings.ToUpper(src.Messages[0].Content) + "  "},
			{Role: RoleAssistant, Content: src.Messages[1].Content},
		}}
	case len(recent) > 0 && p < 0.15:
		src := recent[s.rng.IntN(len(recent))]
		return s.editExample(src, 0.03, isChinese(src.Messages[0].Content))
	}
	ex := s.example(480, chinese)
	if s.rng.IntN(50) == 0 {
		ex.Messages[1].Content += fmt.Sprintf(" Write to user%d@example.com or call 138%08d.", i, s.rng.IntN(100000000))
	}
	return ex
}

func isChinese(s string) bool {
	for _, r := range s {
		return r >= 0x4e00 && r < 0xa000
	}
	return false
}
