package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"flywheel/internal/llama"
	"flywheel/internal/tensor"
)

func runQuantize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("quantize", stderr)
	in := fs.String("in", "", "input GGUF `file` (F32, F16 or BF16 weights)")
	out := fs.String("out", "", "output GGUF `file`")
	typ := fs.String("type", "q8_0", "target `type`: q8_0, q4_0, q4_k, q5_k, q6_k, f16, bf16 or f32.\n"+
		"q4_k and q5_k are llama.cpp's Q4_K_M and Q5_K_M mixes: the output head (or the tied\n"+
		"embedding) and attn_v and ffn_down of the first and last eighth of the layers and of\n"+
		"every third layer between are Q6_K; q6_k stores every matrix as Q6_K. Matrices whose\n"+
		"rows 256 does not divide are Q8_0 (llama.cpp: Q5_0/Q5_1 for q4_k/q5_k)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		fs.Usage()
		return fmt.Errorf("quantize: --in and --out are required")
	}
	t, err := tensor.ParseDType(*typ)
	if err != nil {
		return fmt.Errorf("quantize: --type: %w", err)
	}
	rep, err := llama.QuantizeGGUF(ctx, *in, *out, t, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d weight matrices as %v, %s → %s\n", *out, rep.Quantized, t,
		bytesString(rep.InBytes), bytesString(rep.OutBytes))
	var reasons []string
	for r := range rep.Kept {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	for _, r := range reasons {
		fmt.Fprintf(stdout, "  %d tensors: %s\n", rep.Kept[r], r)
	}
	return nil
}
