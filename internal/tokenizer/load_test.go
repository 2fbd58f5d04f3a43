package tokenizer

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeMeta is a Metadata over a plain map, for error cases.
type fakeMeta = ggufMeta

func TestFromMetadataErrors(t *testing.T) {
	base := func() fakeMeta {
		return fakeMeta{
			KeyModel:     "llama",
			KeyTokens:    []string{"<unk>", "<s>", "</s>", "▁a"},
			KeyScores:    []float32{0, 0, 0, -1},
			KeyTokenType: []int32{2, 3, 3, 1},
		}
	}
	cases := []struct {
		name string
		edit func(m fakeMeta)
		want string
	}{
		{"no model", func(m fakeMeta) { delete(m, KeyModel) }, "tokenizer.ggml.model is missing"},
		{"rwkv", func(m fakeMeta) { m[KeyModel] = "rwkv" }, `unsupported tokenizer model "rwkv" in tokenizer.ggml.model (supported: bert, gpt2, llama, t5)`},
		{"gpt2 without merges", func(m fakeMeta) { m[KeyModel] = "gpt2" }, "tokenizer.ggml.merges is missing"},
		{"gpt2 bad merge", func(m fakeMeta) { m[KeyModel], m[KeyMerges] = "gpt2", []string{"ab"} }, `tokenizer.ggml.merges entry 0 "ab"`},
		{"gpt2 unknown pre", func(m fakeMeta) { m[KeyModel], m[KeyMerges], m[KeyPre] = "gpt2", []string{"a b"}, "tekken" }, `tokenizer.ggml.pre: pre-tokenizer "tekken" is not supported`},
		{"t5 bad charsmap", func(m fakeMeta) { m[KeyModel], m[KeyCharsmap] = "t5", []byte{9, 0, 0, 0, 1} }, "tokenizer.ggml.precompiled_charsmap: precompiled charsmap declares a 9-byte trie"},
		{"no tokens", func(m fakeMeta) { delete(m, KeyTokens) }, "tokenizer.ggml.tokens is missing or empty"},
		{"empty tokens", func(m fakeMeta) { m[KeyTokens] = []string{} }, "tokenizer.ggml.tokens is missing or empty"},
		{"short scores", func(m fakeMeta) { m[KeyScores] = []float32{0} }, "tokenizer.ggml.scores has 1 entries but tokenizer.ggml.tokens has 4"},
		{"long types", func(m fakeMeta) { m[KeyTokenType] = []int32{1, 1, 1, 1, 1} }, "tokenizer.ggml.token_type has 5 entries"},
	}
	for _, c := range cases {
		m := base()
		c.edit(m)
		_, err := FromMetadata(m)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestFromMetadataDefaults(t *testing.T) {
	// Missing special ids keep the LLaMA defaults; out-of-range ids
	// (0xFFFFFFFF is how converters write "none") keep them too.
	m := fakeMeta{
		KeyModel:  "llama",
		KeyTokens: []string{"<unk>", "<s>", "</s>", "▁a", "<|im_end|>"},
		KeyPAD:    uint32(0xFFFFFFFF),
		KeyBOS:    uint32(0xFFFFFFFF),
		KeyAddEOS: true,
	}
	tok, err := FromMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	if tok.BOS() != 1 || tok.EOS() != 2 || tok.UNK() != 0 || tok.PAD() != -1 {
		t.Errorf("ids %d %d %d %d, want 1 2 0 -1", tok.BOS(), tok.EOS(), tok.UNK(), tok.PAD())
	}
	// No token types: everything is normal, except EOG-looking control texts.
	if tok.Type(1) != TypeNormal || tok.Type(4) != TypeControl || !tok.IsEOG(4) || !tok.IsEOG(2) {
		t.Errorf("types %v %v, EOG(4) %v", tok.Type(1), tok.Type(4), tok.IsEOG(4))
	}
	if got := tok.Encode("a", true, false); !slices.Equal(got, []int{1, 3, 2}) {
		t.Errorf(`Encode("a", addSpecial) = %v, want [1 3 2] (BOS and EOS)`, got)
	}
	m[KeyAddSpacePrefix] = false
	m[KeyAddBOS] = false
	tok, err = FromMetadata(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode(" a", true, false); !slices.Equal(got, []int{3, 2}) {
		t.Errorf(`Encode(" a") without space prefix and BOS = %v, want [3 2]`, got)
	}
	if got := tok.Decode([]int{3}); got != " a" {
		t.Errorf("Decode without space prefix = %q, want %q", got, " a")
	}
}

// llama2cFile builds the bytes of a llama2.c tokenizer.
func llama2cFile(maxLen int32, pieces ...string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(maxLen))
	for i, p := range pieces {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(-float32(i)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

func TestLoadLlama2CErrors(t *testing.T) {
	good := llama2cFile(8, "<unk>", "\n<s>\n", "\n</s>\n", "a", " b")
	negLen := slices.Clone(good)
	binary.LittleEndian.PutUint32(negLen[4+8+5+4:], 0xFFFFFFFF) // length of token 1
	cases := []struct {
		name      string
		data      []byte
		vocabSize int
		want      string
	}{
		{"empty", nil, 0, "byte offset 0: file has 0 bytes"},
		{"zero max length", llama2cFile(0, "a"), 0, "byte offset 0: max_token_length 0"},
		{"absurd max length", llama2cFile(1<<30, "a"), 0, "byte offset 0: max_token_length 1073741824"},
		{"no tokens", llama2cFile(8), 0, "byte offset 4: file holds no tokens"},
		{"truncated header", good[:len(good)-2-8+3], 0, "byte offset 53: file is truncated in the header of token 4 (3 of 8 bytes)"},
		{"truncated text", good[:len(good)-1], 0, "byte offset 61: file is truncated in token 4: 2 bytes of text declared, 1 left"},
		{"negative length", negLen, 0, "byte offset 21: token 1 has length -1"},
		{"long token", llama2cFile(2, "abc"), 0, "byte offset 8: token 0 has length 3, not in 0..max_token_length 2"},
		{"too few", good, 6, "byte offset 63: file ends after 5 tokens but the model's vocab_size is 6"},
		{"too many", good, 4, "byte offset 53: 10 bytes follow the 4 tokens"},
	}
	for _, c := range cases {
		_, err := parseLlama2C("tok.bin", c.data, c.vocabSize)
		if err == nil || !strings.Contains(err.Error(), "tok.bin") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to name tok.bin and contain %q", c.name, err, c.want)
		}
	}
	tok, err := parseLlama2C("tok.bin", good, 5)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Piece(1) != "<s>" || tok.Piece(2) != "</s>" || tok.Piece(4) != "▁b" || tok.Type(0) != TypeUnknown {
		t.Errorf("normalised pieces %q %q %q, type(0) %v", tok.Piece(1), tok.Piece(2), tok.Piece(4), tok.Type(0))
	}

	_, err = LoadLlama2C(filepath.Join(t.TempDir(), "missing.bin"), 512)
	if err == nil || !strings.Contains(err.Error(), "missing.bin") {
		t.Errorf("missing file: err = %v, want it to name the file", err)
	}
}

// FuzzLoadLlama2C feeds arbitrary bytes to the llama2.c tokenizer parser: it
// must never panic, errors must name the file and a byte offset, and what it
// accepts must encode and decode.
func FuzzLoadLlama2C(f *testing.F) {
	if real, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "testdata", storiesTok512)); err == nil {
		f.Add(real)
		f.Add(real[:len(real)/2])
	}
	f.Add(llama2cFile(8, "<unk>", "\n<s>\n", "\n</s>\n", "<0x41>", "a", " b", " ", "ab"))
	f.Add(llama2cFile(3, "x"))
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := parseLlama2C("fuzz.bin", data, 0)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.bin: byte offset ") {
				t.Fatalf("error does not name the file and offset: %v", err)
			}
			return
		}
		if _, err := parseLlama2C("fuzz.bin", data, tok.VocabSize()); err != nil {
			t.Fatalf("accepted with vocabSize 0 but not with its own size %d: %v", tok.VocabSize(), err)
		}
		for _, s := range slices.Concat(roundTripTexts[:12], []string{string(data)}) {
			ids := tok.Encode(s, true, true)
			for _, id := range ids {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("Encode(%q) gave id %d outside the vocabulary of %d", s, id, tok.VocabSize())
				}
			}
			_ = tok.Decode(ids)
			_ = streamAll(tok, ids)
		}
	})
}

// TestMergeAcrossWords covers a vocabulary with a piece that spans a space
// ("a▁b"), where words cannot be merged separately.
func TestMergeAcrossWords(t *testing.T) {
	pieces := []string{"<unk>", "<s>", "</s>", "▁", "a", "b", "c", "▁a", "a▁", "a▁b", "▁a▁b", "bc"}
	scores := []float32{0, 0, 0, -10, -10, -10, -10, -5, -1, -2, -3, -9}
	types := []int32{2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}
	for b := range 256 {
		pieces = append(pieces, byteTokenText(byte(b)))
		scores = append(scores, 0)
		types = append(types, int32(TypeByte))
	}
	tok, err := FromMetadata(fakeMeta{KeyModel: "llama", KeyTokens: pieces, KeyScores: scores, KeyTokenType: types})
	if err != nil {
		t.Fatal(err)
	}
	if tok.model.(*spm).wordsIndependent {
		t.Fatal("wordsIndependent with a piece a▁b")
	}
	cases := []struct {
		text string
		want []int
	}{
		{"a b", []int{10}},         // ▁ a ▁ b → ▁ a▁ b → ▁ a▁b → ▁a▁b
		{"a bc", []int{10, 6}},     // a▁ beats bc; then a▁b, ▁a▁b
		{"ca b", []int{3, 6, 9}},   // ▁ c a▁b
		{"b b", []int{3, 5, 3, 5}}, // nothing merges
		{"x", []int{3, 12 + 'x'}},  // byte fallback
		{"a", []int{7}},            // ▁a
	}
	for _, c := range cases {
		got := tok.Encode(c.text, false, false)
		if !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
		if ref := referenceEncode(tok, c.text); !slices.Equal(ref, got) {
			t.Errorf("Encode(%q) = %v, reference %v", c.text, got, ref)
		}
		if back := tok.Decode(got); back != c.text {
			t.Errorf("Decode(Encode(%q)) = %q", c.text, back)
		}
	}
}
