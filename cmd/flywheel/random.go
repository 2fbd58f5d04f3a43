package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"flywheel/internal/gguf"
	"flywheel/internal/llama"
	"flywheel/internal/tensor"
)

// presets are the LLaMA shapes of the benchmarks (BENCHMARKS.md).
var presets = map[string]llama.Config{
	"15M":  {Dim: 288, Hidden: 768, Layers: 6, Heads: 6, KVHeads: 6, Vocab: 32000},
	"110M": {Dim: 768, Hidden: 2048, Layers: 12, Heads: 12, KVHeads: 12, Vocab: 32000},
}

func runRandom(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("random", stderr)
	preset := fs.String("preset", "15M", "shape: 15M or 110M (the LLaMA shapes of the benchmarks); other flags override it")
	dim := fs.Int("dim", 0, "embedding width")
	hidden := fs.Int("hidden", 0, "feed-forward width")
	layers := fs.Int("layers", 0, "layers")
	heads := fs.Int("heads", 0, "attention heads")
	kvHeads := fs.Int("kv-heads", 0, "key/value heads (grouped-query attention)")
	ctxLen := fs.Int("ctx", 2048, "context length")
	typ := fs.String("type", "f32", "weight `type`: f32, f16, bf16, q8_0, q4_0")
	vocabFrom := fs.String("vocab-from", "", "copy the tokenizer of this GGUF `file` (e.g. a ggml-vocab-*.gguf); sets the vocabulary size")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("out", "", "output GGUF `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return fmt.Errorf("random: --out is required")
	}
	c, ok := presets[*preset]
	if !ok {
		return fmt.Errorf("random: unknown --preset %q (want 15M or 110M)", *preset)
	}
	for _, o := range []struct {
		dst *int
		v   int
	}{{&c.Dim, *dim}, {&c.Hidden, *hidden}, {&c.Layers, *layers}, {&c.Heads, *heads}, {&c.KVHeads, *kvHeads}} {
		if o.v > 0 {
			*o.dst = o.v
		}
	}
	if *heads > 0 && *kvHeads == 0 {
		c.KVHeads = c.Heads
	}
	c.Arch, c.ContextLen, c.NormEps, c.RopeBase, c.RopeScale = "llama", *ctxLen, 1e-5, 10000, 1
	c.TiedOutput, c.RopeStyle = true, tensor.RopeInterleaved
	if c.Heads > 0 {
		c.HeadDim = c.Dim / c.Heads
		c.RopeDims = c.HeadDim
	}
	var extra []gguf.KV
	if *vocabFrom != "" {
		v, err := gguf.Open(*vocabFrom)
		if err != nil {
			return err
		}
		for _, kv := range v.KV {
			if strings.HasPrefix(kv.Key, "tokenizer.") {
				extra = append(extra, kv)
			}
		}
		if tokens, ok := v.Get("tokenizer.ggml.tokens"); ok {
			c.Vocab = tokens.Len()
		}
		v.Close()
	}
	dt, err := tensor.ParseDType(*typ)
	if err != nil {
		return fmt.Errorf("random: --type: %w", err)
	}
	m, err := llama.Random(c, dt, *seed)
	if err != nil {
		return fmt.Errorf("random: %w", err)
	}
	if err := llama.SaveGGUF(*out, m, extra...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s random llama, dim %d, %d layers, %d heads, ffn %d, vocab %d, %v\n",
		*out, countString(parameters(m)), c.Dim, c.Layers, c.Heads, c.Hidden, c.Vocab, dt)
	return nil
}
