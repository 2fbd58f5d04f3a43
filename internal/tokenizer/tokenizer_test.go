package tokenizer

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	llamaSPMVocab  = "tokenizer/ggml-vocab-llama-spm.gguf"
	storiesGGUF    = "models/stories260K/stories260K-f32.gguf"
	storiesTok512  = "models/stories260K/tok512.bin"
	vocabSeparator = "\n__ggml_vocab_test__\n"
)

// vocabCase is one llama.cpp test-tokenizer-0 case.
type vocabCase struct {
	text string
	ids  []int
}

// readVocabCases reads X.inp / X.out as llama.cpp's test-tokenizer-0 does.
func readVocabCases(t testing.TB, rel string) []vocabCase {
	t.Helper()
	inp, err := os.ReadFile(testdata(t, rel+".inp"))
	if err != nil {
		t.Fatal(err)
	}
	outp, err := os.ReadFile(testdata(t, rel+".out"))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	rest := string(inp)
	for {
		i := strings.Index(rest, vocabSeparator)
		if i < 0 {
			break
		}
		texts = append(texts, rest[:i])
		rest = rest[i+len(vocabSeparator):]
	}
	if rest != "" {
		texts = append(texts, rest)
	}
	lines := strings.Split(strings.TrimSuffix(string(outp), "\n"), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("%s: %d inputs but %d expected-id lines", rel, len(texts), len(lines))
	}
	cases := make([]vocabCase, len(texts))
	for i, line := range lines {
		var ids []int
		for _, f := range strings.Fields(line) {
			id, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("%s.out line %d: %v", rel, i+1, err)
			}
			ids = append(ids, id)
		}
		cases[i] = vocabCase{texts[i], ids}
	}
	return cases
}

// TestLlamaSPMVocab checks every llama.cpp test-tokenizer-0 case of the
// LLaMA SentencePiece vocabulary (no BOS, no special parsing).
func TestLlamaSPMVocab(t *testing.T) {
	tok := loadGGUFTokenizer(t, llamaSPMVocab)
	cases := readVocabCases(t, llamaSPMVocab)
	if len(cases) != 46 {
		t.Fatalf("got %d cases, want 46", len(cases))
	}
	for i, c := range cases {
		got := tok.Encode(c.text, false, false)
		if !slices.Equal(got, c.ids) {
			t.Errorf("case %d %q:\n got  %v\n want %v", i, c.text, got, c.ids)
		}
		if ref := referenceEncode(tok, c.text); !slices.Equal(ref, c.ids) {
			t.Errorf("case %d %q: reference encode %v, want %v", i, c.text, ref, c.ids)
		}
		if back := tok.Decode(got); back != c.text {
			t.Errorf("case %d: Decode(Encode(%q)) = %q", i, c.text, back)
		}
	}
}

func TestLlamaSPMVocabInfo(t *testing.T) {
	tok := loadGGUFTokenizer(t, llamaSPMVocab)
	if got, want := tok.Kind(), "llama (SentencePiece BPE)"; got != want {
		t.Errorf("Kind() = %q, want %q", got, want)
	}
	checks := []struct {
		name      string
		got, want int
	}{
		{"VocabSize", tok.VocabSize(), 32000},
		{"BOS", tok.BOS(), 1},
		{"EOS", tok.EOS(), 2},
		{"UNK", tok.UNK(), 0},
		{"PAD", tok.PAD(), -1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s() = %d, want %d", c.name, c.got, c.want)
		}
	}
	pieces := []struct {
		id    int
		piece string
		bytes string
		typ   TokenType
	}{
		{0, "<unk>", "", TypeUnknown},
		{1, "<s>", "", TypeControl},
		{2, "</s>", "", TypeControl},
		{13, "<0x0A>", "\n", TypeByte},
		{259, "▁▁", "  ", TypeNormal},
		{15043, "▁Hello", " Hello", TypeNormal},
		{3186, "▁world", " world", TypeNormal},
		{-1, "", "", TypeUndefined},
		{32000, "", "", TypeUndefined},
	}
	for _, p := range pieces {
		if got := tok.Piece(p.id); got != p.piece {
			t.Errorf("Piece(%d) = %q, want %q", p.id, got, p.piece)
		}
		if got := string(tok.TokenBytes(p.id)); got != p.bytes {
			t.Errorf("TokenBytes(%d) = %q, want %q", p.id, got, p.bytes)
		}
		if got := tok.Type(p.id); got != p.typ {
			t.Errorf("Type(%d) = %v, want %v", p.id, got, p.typ)
		}
	}
	if !tok.IsControl(1) || !tok.IsControl(2) || tok.IsControl(0) || tok.IsControl(15043) {
		t.Error("IsControl: want true for 1 and 2 only")
	}
	if !tok.IsEOG(2) || tok.IsEOG(1) || tok.IsEOG(15043) || tok.IsEOG(-1) {
		t.Error("IsEOG: want true for EOS 2 only")
	}
	if id, ok := tok.ID("▁Hello"); !ok || id != 15043 {
		t.Errorf(`ID("▁Hello") = %d, %v`, id, ok)
	}
}

func TestEncodeSpecial(t *testing.T) {
	tok := loadGGUFTokenizer(t, llamaSPMVocab)
	cases := []struct {
		text                     string
		addSpecial, parseSpecial bool
		want                     []int
	}{
		{"", false, false, nil},
		{"", true, false, []int{1}},
		{"Hello world", true, false, []int{1, 15043, 3186}},
		{"Hello world", false, false, []int{15043, 3186}},
		// "<s>" is text unless special tokens are parsed; a space prefix
		// follows every special token, as in llama.cpp.
		{"<s>Hello", false, true, []int{1, 15043}},
		{"Hello</s>", true, true, []int{1, 15043, 2}},
		{"Hello</s> world", false, true, []int{15043, 2, 29871, 3186}},
		{"<unk>", false, true, []int{0}},
	}
	for _, c := range cases {
		got := tok.Encode(c.text, c.addSpecial, c.parseSpecial)
		if !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q, %v, %v) = %v, want %v", c.text, c.addSpecial, c.parseSpecial, got, c.want)
		}
	}
	// Without special parsing "<s>" is ordinary text and round-trips.
	plain := tok.Encode("<s>Hello", false, false)
	if slices.Contains(plain, 1) {
		t.Errorf(`Encode("<s>Hello", parseSpecial=false) = %v contains BOS`, plain)
	}
	if got := tok.Decode(plain); got != "<s>Hello" {
		t.Errorf("Decode(%v) = %q", plain, got)
	}
}

func TestDecode(t *testing.T) {
	tok := loadGGUFTokenizer(t, llamaSPMVocab)
	cases := []struct {
		ids  []int
		want string
	}{
		{nil, ""},
		{[]int{1}, ""},
		{[]int{1, 15043, 3186}, "Hello world"},
		{[]int{15043, 3186}, "Hello world"},
		{[]int{3186, 1, 15043}, "worldHello"},  // the leading space goes at the start and after every BOS
		{[]int{3186, 2, 15043}, "world Hello"}, // but not after other tokens
		{[]int{1, 15043, 2, 15043}, "Hello Hello"},
		{[]int{29871, 243, 162, 155, 132}, "😁"},
		{[]int{259, 15043}, "  Hello"},      // "▁▁" loses one space
		{[]int{-5, 40000, 15043}, " Hello"}, // ids out of range render as nothing
	}
	for _, c := range cases {
		if got := tok.Decode(c.ids); got != c.want {
			t.Errorf("Decode(%v) = %q, want %q", c.ids, got, c.want)
		}
	}
}

// roundTripTexts is the table for the round-trip and loader-agreement tests
// and the seed of the fuzzers.
var roundTripTexts = []string{
	"",
	" ",
	"  ",
	"\n",
	"\n\n",
	" \n \t ",
	"Once upon a time",
	"Once upon a time, there was a little girl named Lily.",
	"  leading and trailing  ",
	"héllo 世界 🙂",
	"emoji 🦙🙂🚀 and ZWJ 👨‍👩‍👧",
	"tabs\tand\nnewlines\r\n",
	"<s> not special </s>",
	"\x00\x01\x7f",
	"ünïcödé ελληνικά русский عربى हिन्दी",
	strings.Repeat("a", 300),
}

// TestStoriesOnceUponATime checks the prompt ids llama2.c and llama.cpp
// give for the stories260K reference run.
func TestStoriesOnceUponATime(t *testing.T) {
	want := []int{1, 403, 407, 261, 378}
	for name, tok := range map[string]*Tokenizer{
		"tok512.bin": loadLlama2CTokenizer(t),
		"gguf":       loadGGUFTokenizer(t, storiesGGUF),
	} {
		if got := tok.Encode("Once upon a time", true, false); !slices.Equal(got, want) {
			t.Errorf("%s: Encode = %v, want %v", name, got, want)
		}
	}
}

// TestLoadersAgree checks that the llama2.c tokenizer and its GGUF
// conversion are the same vocabulary and give the same ids.
func TestLoadersAgree(t *testing.T) {
	a := loadLlama2CTokenizer(t)
	b := loadGGUFTokenizer(t, storiesGGUF)
	if a.VocabSize() != b.VocabSize() {
		t.Fatalf("VocabSize: tok512.bin %d, gguf %d", a.VocabSize(), b.VocabSize())
	}
	for id := range a.VocabSize() {
		if a.Piece(id) != b.Piece(id) || a.Type(id) != b.Type(id) || a.Score(id) != b.Score(id) {
			t.Errorf("token %d: tok512.bin %q %v %v, gguf %q %v %v", id,
				a.Piece(id), a.Type(id), a.Score(id), b.Piece(id), b.Type(id), b.Score(id))
		}
	}
	if a.BOS() != b.BOS() || a.EOS() != b.EOS() || a.UNK() != b.UNK() || a.PAD() != b.PAD() {
		t.Errorf("special ids: tok512.bin %d %d %d %d, gguf %d %d %d %d",
			a.BOS(), a.EOS(), a.UNK(), a.PAD(), b.BOS(), b.EOS(), b.UNK(), b.PAD())
	}
	for _, s := range roundTripTexts {
		for _, addSpecial := range []bool{false, true} {
			ia, ib := a.Encode(s, addSpecial, false), b.Encode(s, addSpecial, false)
			if !slices.Equal(ia, ib) {
				t.Errorf("Encode(%q, %v): tok512.bin %v, gguf %v", s, addSpecial, ia, ib)
			}
		}
		if ref, got := referenceEncode(a, s), a.Encode(s, false, false); !slices.Equal(ref, got) {
			t.Errorf("Encode(%q) = %v, reference %v", s, got, ref)
		}
	}
	// Byte fallback: "🙂" is not a piece of the 512-token vocabulary.
	space, ok := a.ID("▁")
	if !ok {
		t.Fatal(`tok512.bin has no piece "▁"`)
	}
	got := a.Encode("🙂", false, false)
	want := []int{space, 3 + 0xF0, 3 + 0x9F, 3 + 0x99, 3 + 0x82}
	if !slices.Equal(got, want) {
		t.Errorf(`Encode("🙂") = %v, want %v`, got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	toks := map[string]*Tokenizer{
		"llama-spm":  loadGGUFTokenizer(t, llamaSPMVocab),
		"tok512.bin": loadLlama2CTokenizer(t),
	}
	for name, tok := range toks {
		for _, s := range roundTripTexts {
			for _, addSpecial := range []bool{false, true} {
				ids := tok.Encode(s, addSpecial, false)
				if got := tok.Decode(ids); got != s {
					t.Errorf("%s: Decode(Encode(%q, %v)) = %q (ids %v)", name, s, addSpecial, got, ids)
				}
				if got := streamAll(tok, ids); got != s {
					t.Errorf("%s: stream decode of %q = %q", name, s, got)
				}
			}
		}
	}
}

// TestEncodeLarge tokenizes 100 KB (the priority queue keeps it fast; the
// speed itself is measured by BenchmarkEncode).
func TestEncodeLarge(t *testing.T) {
	tok := loadGGUFTokenizer(t, llamaSPMVocab)
	text := benchText(t, 100<<10)
	ids := tok.Encode(text, true, false)
	if len(ids) < len(text)/8 {
		t.Errorf("%d bytes gave only %d ids", len(text), len(ids))
	}
	if got := tok.Decode(ids); got != text {
		t.Error("Decode(Encode(100 KB)) differs from the input")
	}
	// A long run of one character exercises the queue's stale entries.
	long := strings.Repeat("3", 20000) + strings.Repeat(" ", 20000)
	if got := tok.Decode(tok.Encode(long, false, false)); got != long {
		t.Error("Decode(Encode(long runs)) differs from the input")
	}
	small := long[19000:21000]
	if got, ref := tok.Encode(small, false, false), referenceEncode(tok, small); !slices.Equal(got, ref) {
		t.Errorf("Encode(runs) = %v, reference %v", got, ref)
	}
}

// benchText is n bytes made of the llama.cpp test texts, cut at a rune boundary.
func benchText(tb testing.TB, n int) string {
	cases := readVocabCases(tb, llamaSPMVocab)
	var b strings.Builder
	for b.Len() < n {
		for _, c := range cases {
			b.WriteString(c.text)
			b.WriteString(" Once upon a time, there was a little girl named Lily.\n")
		}
	}
	s := b.String()[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func BenchmarkEncode(b *testing.B) {
	for _, c := range []struct {
		name, vocab string
		size        int
	}{
		{"llama-spm/100KB", llamaSPMVocab, 100 << 10},
		{"stories260K/100KB", storiesGGUF, 100 << 10},
		{"llama-spm/1KB", llamaSPMVocab, 1 << 10},
	} {
		b.Run(c.name, func(b *testing.B) {
			tok := loadGGUFTokenizer(b, c.vocab)
			text := benchText(b, c.size)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				tok.Encode(text, true, false)
			}
		})
	}
}

// BenchmarkEncodeReference measures the naive O(n²) reference on 1 KB and
// 4 KB, the baseline that justifies the priority queue and the word split.
func BenchmarkEncodeReference(b *testing.B) {
	tok := loadGGUFTokenizer(b, llamaSPMVocab)
	for _, size := range []int{1 << 10, 4 << 10} {
		b.Run(fmt.Sprintf("llama-spm/%dKB", size>>10), func(b *testing.B) {
			text := benchText(b, size)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				referenceEncode(tok, text)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	tok := loadGGUFTokenizer(b, llamaSPMVocab)
	text := benchText(b, 100<<10)
	ids := tok.Encode(text, true, false)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		tok.Decode(ids)
	}
}
