package tokenizer

// This file joins the package's tests only through go test -overlay (see
// run.sh): it writes the benchmark text, the benchmark vocabularies as
// Hugging Face tokenizer.json files and our ids for the side-by-side
// comparison, and measures our encoding speed per CPU second as the
// Hugging Face side does.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
)

// hfBenchTokenizers are BenchmarkEncodeMixed's tokenizers, each with its
// vocabulary written as tokenizer.json by the converters of hf_test.go.
var hfBenchTokenizers = []struct {
	name string
	load func(testing.TB) *Tokenizer
	json func(testing.TB) []byte
}{
	{"spm-llama", func(tb testing.TB) *Tokenizer { return loadGGUFTokenizer(tb, llamaSPMVocab) }, spmAsHFBPE},
	{"bpe-gpt2", func(tb testing.TB) *Tokenizer { return loadGGUFTokenizer(tb, vocabPath("gpt-2")) }, func(tb testing.TB) []byte {
		return byteLevelJSON(tb, "gpt-2", map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true})
	}},
	{"bpe-deepseek", func(tb testing.TB) *Tokenizer { return loadGGUFTokenizer(tb, vocabPath("deepseek-llm")) }, func(tb testing.TB) []byte {
		return byteLevelJSON(tb, "deepseek-llm", map[string]any{"type": "Sequence", "pretokenizers": []any{
			split("[\r\n]"),
			split(deepseekLetterRegex()),
			split(`\s?[!-/:-~！-／：-～‘-‟　-。]+`),
			split(`\s+$`),
			split(`[一-龥ࠀ-一가-퟿]+`),
			split(`\p{N}+`),
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false},
		}})
	}},
	{"wordpiece-bert", func(tb testing.TB) *Tokenizer { return loadGGUFTokenizer(tb, vocabPath("bert-bge")) }, bertJSON},
	{"unigram-llama", unigramFromSPM, unigramJSON},
}

// bertJSON is the BGE WordPiece vocabulary as tokenizer.json: a word start
// bare, a continuation with "##".
func bertJSON(tb testing.TB) []byte {
	bert := loadGGUFTokenizer(tb, vocabPath("bert-bge"))
	unphantom := func(p string) string {
		if len(p) > 1 && p[0] == '[' && p[len(p)-1] == ']' {
			return p
		}
		if len(p) >= len(spaceMarker) && p[:len(spaceMarker)] == spaceMarker {
			return p[len(spaceMarker):]
		}
		return "##" + p
	}
	return hfJSON(tb, map[string]any{
		"added_tokens":  hfAdded(bert, unphantom),
		"normalizer":    map[string]any{"type": "BertNormalizer", "lowercase": true, "strip_accents": nil, "clean_text": true, "handle_chinese_chars": true},
		"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
		"model":         map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocabMap(bert, unphantom)},
	})
}

// unigramJSON is the LLaMA vocabulary read as a unigram model, as
// tokenizer.json: spaces become "▁", no prefix (as the GGUF says).
func unigramJSON(tb testing.TB) []byte {
	tok := unigramFromSPM(tb)
	vocab := make([]any, len(tok.pieces))
	for id, p := range tok.pieces {
		vocab[id] = []any{p, tok.scores[id]}
	}
	return hfJSON(tb, map[string]any{
		"added_tokens":  hfAdded(tok, same),
		"pre_tokenizer": map[string]any{"type": "Metaspace", "replacement": spaceMarker, "prepend_scheme": "never", "split": false},
		"model":         map[string]any{"type": "Unigram", "unk_id": tok.unk, "byte_fallback": false, "vocab": vocab},
	})
}

// TestExportHF writes text.txt, NAME.json (tokenizer.json) and NAME.ids.json
// (our ids of the text) into $HFBENCH_DIR, after checking that our
// tokenizer.json reader gives the GGUF tokenizer's ids.
func TestExportHF(t *testing.T) {
	dir := os.Getenv("HFBENCH_DIR")
	if dir == "" {
		t.Skip("HFBENCH_DIR is not set")
	}
	text := mixedText(t, 1<<20)
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("text.txt", []byte(text))
	for _, c := range hfBenchTokenizers {
		data := c.json(t)
		ids := c.load(t).Encode(text, false, false)
		hf, err := ParseHF(data, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(hf.Encode(text, false, false), ids) {
			t.Errorf("%s: the tokenizer.json gives other ids than the GGUF", c.name)
		}
		idsJSON, err := json.Marshal(ids)
		if err != nil {
			t.Fatal(err)
		}
		write(c.name+".json", data)
		write(c.name+".ids.json", idsJSON)
	}
}

// cpuSeconds is the CPU time (user and system) of the process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkEncodeCPU is BenchmarkEncodeMixed after one warm-up call (as on
// the Hugging Face side), also reporting MB per CPU second of the process
// (garbage collection included), which a busy machine disturbs less than
// wall time.
func BenchmarkEncodeCPU(b *testing.B) {
	text := mixedText(b, 1<<20)
	for _, c := range hfBenchTokenizers {
		b.Run(c.name, func(b *testing.B) {
			tok := c.load(b)
			tok.Encode(text, false, false)
			runtime.GC()
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			cpu := cpuSeconds()
			for b.Loop() {
				tok.Encode(text, false, false)
			}
			b.ReportMetric(float64(b.N)*float64(len(text))/1e6/(cpuSeconds()-cpu), "cpuMB/s")
		})
	}
}
