package tokenizer

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// mixedText is n bytes of real English (XQuAD) and Chinese (CMRC 2018)
// passages taken in turn, cut at a character boundary.
func mixedText(tb testing.TB, n int) string {
	tb.Helper()
	var sources [2][]string
	for i, rel := range []string{"qa/xquad_en/docs.jsonl", "qa/cmrc2018_dev/docs.jsonl"} {
		f, err := os.Open(testdata(tb, rel))
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var doc struct {
				Text string `json:"text"`
			}
			if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
				tb.Fatal(err)
			}
			sources[i] = append(sources[i], doc.Text)
		}
		f.Close()
	}
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(sources[i%2][i/2%len(sources[i%2])])
		b.WriteString("\n\n")
	}
	s := b.String()[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// unigramFromSPM is the LLaMA vocabulary read as a unigram model (its
// scores are piece log-probabilities), a real-sized unigram vocabulary.
func unigramFromSPM(tb testing.TB) *Tokenizer {
	md, err := readGGUFMeta(testdata(tb, llamaSPMVocab))
	if err != nil {
		tb.Fatal(err)
	}
	md[KeyModel] = "t5"
	tok, err := FromMetadata(md)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// BenchmarkEncodeMixed encodes 1 MB of mixed English and Chinese text with
// each kind of tokenizer; MB/s is the figure to compare with Hugging Face
// tokenizers on the same text and vocabulary, which testdata/hfbench/run.sh
// does side by side.
func BenchmarkEncodeMixed(b *testing.B) {
	text := mixedText(b, 1<<20)
	for _, c := range []struct {
		name string
		load func(testing.TB) *Tokenizer
	}{
		{"spm-llama", func(tb testing.TB) *Tokenizer { return loadGGUFTokenizer(tb, llamaSPMVocab) }},
		{"bpe-gpt2", func(tb testing.TB) *Tokenizer { return loadGGUFTokenizer(tb, vocabPath("gpt-2")) }},
		{"bpe-deepseek", func(tb testing.TB) *Tokenizer { return loadGGUFTokenizer(tb, vocabPath("deepseek-llm")) }},
		{"wordpiece-bert", func(tb testing.TB) *Tokenizer { return loadGGUFTokenizer(tb, vocabPath("bert-bge")) }},
		{"unigram-llama", unigramFromSPM},
	} {
		b.Run(c.name, func(b *testing.B) {
			tok := c.load(b)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				tok.Encode(text, false, false)
			}
		})
	}
}
