package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"flywheel/internal/gguf"
	"flywheel/internal/llama"
	"flywheel/internal/tensor"
	"flywheel/internal/tokenizer"
)

func runMerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("merge", stderr)
	var (
		model   = fs.String("model", "", "base model: a GGUF file, a Hugging Face directory or a llama2.c .bin `path`")
		tokPath = fs.String("tokenizer", "", "tokenizer `file` when the model holds none")
		adapter = fs.String("lora", "", "LoRA adapter: a PEFT `directory` or a GGUF LoRA file")
		out     = fs.String("out", "", "merged model `file` (GGUF)")
		typ     = fs.String("type", "same", "store merged matrices as f32, f16, bf16, q8_0, q4_0, or same (each as the base stores it)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" || *adapter == "" || *out == "" {
		fs.Usage()
		return fmt.Errorf("merge: --model, --lora and --out are required")
	}
	dtype := llama.KeepDType
	if *typ != "same" {
		var err error
		if dtype, err = tensor.ParseDType(*typ); err != nil {
			return fmt.Errorf("merge: --type: %w", err)
		}
	}
	m, err := llama.Load(*model, llama.Options{Tokenizer: *tokPath})
	if err != nil {
		return err
	}
	defer m.Close()
	a, err := m.LoadAdapter(*adapter)
	if err != nil {
		return err
	}
	merged, err := m.Merged(a, dtype)
	if err != nil {
		return err
	}
	if err := llama.SaveGGUF(*out, merged, vocabularyKV(*model, m.Tokenizer)...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s with %s folded in (rank %d, alpha %g, %d projections)\n",
		*out, *model, *adapter, a.Config.Rank, a.Config.Alpha, len(a.Modules))
	return nil
}

// vocabularyKV returns the tokenizer metadata to write into a GGUF made
// from a model: the tokenizer.* keys of a GGUF source as they are, or for
// other sources a SentencePiece vocabulary rebuilt from the tokenizer.
func vocabularyKV(path string, tok *tokenizer.Tokenizer) []gguf.KV {
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		if f, err := gguf.Open(path); err == nil {
			defer f.Close()
			var kv []gguf.KV
			for _, e := range f.KV {
				if strings.HasPrefix(e.Key, "tokenizer.") {
					kv = append(kv, e)
				}
			}
			return kv
		}
	}
	if tok == nil || !strings.HasPrefix(tok.Kind(), "llama") {
		return nil
	}
	n := tok.VocabSize()
	pieces, scores, types := make([]string, n), make([]float32, n), make([]int32, n)
	for i := range pieces {
		pieces[i], scores[i], types[i] = tok.Piece(i), tok.Score(i), int32(tok.Type(i))
	}
	kv := []gguf.KV{
		{Key: "tokenizer.ggml.model", Value: gguf.String("llama")},
		{Key: "tokenizer.ggml.tokens", Value: gguf.StringArray(pieces)},
		{Key: "tokenizer.ggml.scores", Value: gguf.Float32Array(scores)},
		{Key: "tokenizer.ggml.token_type", Value: gguf.Int32Array(types)},
	}
	for _, id := range []struct {
		key string
		id  int
	}{{"bos_token_id", tok.BOS()}, {"eos_token_id", tok.EOS()}, {"unknown_token_id", tok.UNK()}} {
		if id.id >= 0 {
			kv = append(kv, gguf.KV{Key: "tokenizer.ggml." + id.key, Value: gguf.Uint32(uint32(id.id))})
		}
	}
	return kv
}
