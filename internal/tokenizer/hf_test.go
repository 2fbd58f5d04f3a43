package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The tests below write each reference GGUF vocabulary as a Hugging Face
// tokenizer.json, in the form the Hugging Face converters give it, and check
// that the file tokenizes llama.cpp's test cases to the same ids: the
// tokenizer.json path is held to the same reference as the GGUF one.

// hfJSON marshals a tokenizer.json document.
func hfJSON(t testing.TB, doc map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hfAdded lists the control and user-defined tokens of a vocabulary as
// added_tokens.
func hfAdded(tok *Tokenizer, rename func(string) string) []any {
	var added []any
	for id, tt := range tok.types {
		if tt == TypeControl || tt == TypeUserDefined || tt == TypeUnknown {
			added = append(added, map[string]any{"id": id, "content": rename(tok.pieces[id]), "special": tt != TypeUserDefined})
		}
	}
	return added
}

func vocabMap(tok *Tokenizer, rename func(string) string) map[string]int {
	m := map[string]int{}
	for id, p := range tok.pieces {
		m[rename(p)] = id
	}
	return m
}

func same(s string) string { return s }

// byteLevelJSON is a GGUF byte-level vocabulary as tokenizer.json.
func byteLevelJSON(t testing.TB, name string, pre any) []byte {
	tok := loadGGUFTokenizer(t, vocabPath(name))
	md, err := readGGUFMeta(testdata(t, vocabPath(name)))
	if err != nil {
		t.Fatal(err)
	}
	merges, _ := md.Strings(KeyMerges)
	return hfJSON(t, map[string]any{
		"added_tokens":  hfAdded(tok, same),
		"pre_tokenizer": pre,
		"decoder":       map[string]any{"type": "ByteLevel"},
		"model":         map[string]any{"type": "BPE", "vocab": vocabMap(tok, same), "merges": merges},
	})
}

// deepseekLetterRegex is DeepSeek-LLM's letter regex, written from the
// table with its exact code points (a literal copy is easily
// NFC-normalised by tools, which turns ranges such as ῐ-ΐ around and
// makes the regex invalid for Hugging Face's engine).
func deepseekLetterRegex() string {
	b := []rune(`\s?[`)
	for _, r := range deepseekLetters {
		b = append(b, r.lo)
		if r.hi > r.lo {
			b = append(b, '-', r.hi)
		}
	}
	return string(append(b, ']', '+'))
}

func split(regex string) map[string]any {
	return map[string]any{"type": "Split", "pattern": map[string]any{"Regex": regex}, "behavior": "Isolated"}
}

func TestHFMatchesReference(t *testing.T) {
	gpt2 := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}
	deepseek := map[string]any{"type": "Sequence", "pretokenizers": []any{
		split("[\r\n]"),
		split(deepseekLetterRegex()),
		split(`\s?[!-/:-~！-／：-～‘-‟　-。]+`),
		split(`\s+$`),
		split(`[一-龥ࠀ-一가-퟿]+`),
		split(`\p{N}+`),
		map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false},
	}}
	bert := loadGGUFTokenizer(t, vocabPath("bert-bge"))
	// GGUF writes a BERT word start as "▁word" and a continuation bare;
	// tokenizer.json writes "word" and "##cont".
	unphantom := func(p string) string {
		if strings.HasPrefix(p, "[") && strings.HasSuffix(p, "]") {
			return p
		}
		if rest, ok := strings.CutPrefix(p, "▁"); ok {
			return rest
		}
		return "##" + p
	}
	files := map[string][]byte{
		"gpt-2":        byteLevelJSON(t, "gpt-2", gpt2),
		"deepseek-llm": byteLevelJSON(t, "deepseek-llm", deepseek),
		"bert-bge": hfJSON(t, map[string]any{
			"added_tokens":   hfAdded(bert, unphantom),
			"normalizer":     map[string]any{"type": "BertNormalizer", "lowercase": true, "strip_accents": nil, "clean_text": true, "handle_chinese_chars": true},
			"pre_tokenizer":  map[string]any{"type": "BertPreTokenizer"},
			"post_processor": map[string]any{"type": "BertProcessing", "cls": []any{"[CLS]", 101}, "sep": []any{"[SEP]", 102}},
			"model":          map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocabMap(bert, unphantom)},
		}),
		"llama-spm": spmAsHFBPE(t),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			tok, err := ParseHF(data, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range readVocabCases(t, vocabPath(name)) {
				if got := tok.Encode(c.text, false, false); !slices.Equal(got, c.ids) {
					t.Errorf("case %d %q:\n got  %v\n want %v", i, c.text, got, c.ids)
				}
			}
		})
	}
}

// spmAsHFBPE writes the LLaMA SentencePiece vocabulary as the Hugging Face
// converter does: BPE over characters whose merges are every split of a
// piece into two pieces, best score first, with byte fallback, a Prepend
// "▁" normalizer and spaces replaced by "▁".
func spmAsHFBPE(t testing.TB) []byte {
	tok := loadGGUFTokenizer(t, llamaSPMVocab)
	type merge struct {
		a, b  string
		score float32
		id    int
	}
	var merges []merge
	for id, p := range tok.pieces {
		if tok.types[id] != TypeNormal {
			continue
		}
		for i := 1; i < len(p); i++ {
			a, b := p[:i], p[i:]
			ia, okA := tok.ids[a]
			ib, okB := tok.ids[b]
			if okA && okB && tok.types[ia] == TypeNormal && tok.types[ib] == TypeNormal {
				merges = append(merges, merge{a, b, tok.scores[id], id})
			}
		}
	}
	slices.SortStableFunc(merges, func(x, y merge) int {
		switch {
		case x.score > y.score:
			return -1
		case x.score < y.score:
			return 1
		}
		return x.id - y.id
	})
	lines := make([][2]string, len(merges))
	for i, m := range merges {
		lines[i] = [2]string{m.a, m.b}
	}
	return hfJSON(t, map[string]any{
		"added_tokens": hfAdded(tok, same),
		"normalizer": map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "Prepend", "prepend": "▁"},
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": " "}, "content": "▁"},
		}},
		"post_processor": map[string]any{"type": "TemplateProcessing", "single": []any{
			map[string]any{"SpecialToken": map[string]any{"id": "<s>", "type_id": 0}},
			map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}},
		}},
		"model": map[string]any{"type": "BPE", "unk_token": "<unk>", "byte_fallback": true, "fuse_unk": true, "vocab": vocabMap(tok, same), "merges": lines},
	})
}

func TestFromHFDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tokenizer.json", string(spmAsHFBPE(t)))
	write("tokenizer_config.json", `{"add_bos_token": true, "add_eos_token": true, "bos_token": {"content": "<s>", "special": true}, "eos_token": "</s>", "unk_token": "<unk>",
		"chat_template": [{"name": "tool_use", "template": "tools"}, {"name": "default", "template": "{{ bos_token }}x"}]}`)
	tok, err := FromHFDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Encode("Hello world", true, false), []int{1, 15043, 3186, 2}; !slices.Equal(got, want) {
		t.Errorf("Encode(Hello world, addSpecial) = %v, want %v (BOS and EOS from tokenizer_config.json)", got, want)
	}
	if got := tok.Decode(tok.Encode("Hello world", true, false)); got != "Hello world" {
		t.Errorf("round trip = %q", got)
	}
	if tok.BOS() != 1 || tok.EOS() != 2 || tok.UNK() != 0 {
		t.Errorf("BOS %d EOS %d UNK %d, want 1 2 0", tok.BOS(), tok.EOS(), tok.UNK())
	}
	if tok.chatTemplate != "{{ bos_token }}x" {
		t.Errorf("chat template %q, want the one named default", tok.chatTemplate)
	}
}

func TestParseHFErrors(t *testing.T) {
	cases := []struct {
		name, json, want string
	}{
		{"syntax", "{\n\"model\": ", "tokenizer.json: line 2"},
		{"empty", `{"model": {"type": "BPE", "vocab": {}, "merges": []}}`, "model.vocab is empty"},
		{"type", `{"model": {"type": "WordLevel", "vocab": {"a": 0}}}`, `model type "WordLevel" is not supported`},
		{"bad id", `{"model": {"type": "BPE", "vocab": {"a": -3}, "merges": []}}`, `token "a" has id -3`},
		{"merges", `{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["ab"]}}`, `model.merges entry 0 "ab"`},
		{"regex", `{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "x+"}}, "decoder": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`, `Split regex "x+" is not supported`},
		{"unigram", `{"model": {"type": "Unigram", "vocab": [["a", "x"]]}}`, "model.vocab entry 0"},
	}
	for _, c := range cases {
		_, err := ParseHF([]byte(c.json), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
	if _, err := ParseHF([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}`), []byte(`{"chat_template": 3}`)); err == nil || !strings.Contains(err.Error(), "chat_template") {
		t.Errorf("bad chat_template: err = %v", err)
	}
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
