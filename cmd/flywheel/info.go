package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"flywheel/internal/llama"
)

func runInfo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("info", stderr)
	model := fs.String("model", "", "model: a GGUF file, a Hugging Face directory or a llama2.c .bin `path`")
	tokPath := fs.String("tokenizer", "", "tokenizer `file` when the model holds none")
	all := fs.Bool("metadata", false, "also print every metadata key of the file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" {
		fs.Usage()
		return fmt.Errorf("info: --model is required")
	}
	m, err := llama.Load(*model, llama.Options{Tokenizer: *tokPath})
	if err != nil {
		return err
	}
	defer m.Close()
	c, f := m.Config, m.File
	w := &strings.Builder{}
	row := func(k string, format string, a ...any) {
		fmt.Fprintf(w, "%-22s "+format+"\n", append([]any{k + ":"}, a...)...)
	}
	row("file", "%s", f.Path)
	row("format", "%s, %s", f.Format, bytesString(f.Bytes))
	row("architecture", "%s", c.Arch)
	row("parameters", "%s", countString(parameters(m)))
	row("embedding", "%d", c.Dim)
	row("feed-forward", "%d", c.Hidden)
	row("layers", "%d", c.Layers)
	row("heads", "%d (kv heads %d, head dim %d)", c.Heads, c.KVHeads, c.HeadDim)
	row("vocabulary", "%d", c.Vocab)
	row("context length", "%d", c.ContextLen)
	row("rms norm eps", "%g", c.NormEps)
	rope := fmt.Sprintf("base %g, %d dims, %s", c.RopeBase, c.RopeDims, c.RopeStyle)
	if c.RopeScale != 1 {
		rope += fmt.Sprintf(", linear scaling ×%g", c.RopeScale)
	}
	row("rope", "%s", rope)
	row("q/k/v bias", "%v", c.QKVBias)
	row("tied output", "%v", c.TiedOutput)
	var types []string
	for t, n := range f.DTypes {
		types = append(types, fmt.Sprintf("%s ×%d", t, n))
	}
	slices.Sort(types)
	row("tensors", "%d (%s)", f.Tensors, strings.Join(types, ", "))
	if t := m.Tokenizer; t != nil {
		row("tokenizer", "%s, %d tokens", t.Kind(), t.VocabSize())
		specials := []string{}
		for _, s := range []struct {
			name string
			id   int
		}{{"bos", t.BOS()}, {"eos", t.EOS()}, {"unk", t.UNK()}, {"pad", t.PAD()}} {
			if s.id >= 0 {
				specials = append(specials, fmt.Sprintf("%s %d %q", s.name, s.id, t.Piece(s.id)))
			}
		}
		row("special tokens", "%s", strings.Join(specials, ", "))
	} else {
		row("tokenizer", "none in this file (pass --tokenizer)")
	}
	if *all {
		w.WriteString("\nmetadata:\n")
		for _, kv := range f.Metadata {
			fmt.Fprintf(w, "  %s = %s\n", kv.Key, kv.Value)
		}
	}
	_, err = io.WriteString(stdout, w.String())
	return err
}

// parameters counts the model's weights.
func parameters(m *llama.Model) int64 {
	c := m.Config
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	perLayer := 2*c.Dim + 2*q*c.Dim + 2*kv*c.Dim + 3*c.Hidden*c.Dim
	if c.QKVBias {
		perLayer += q + 2*kv
	}
	n := int64(c.Layers)*int64(perLayer) + int64(c.Vocab*c.Dim) + int64(c.Dim)
	if !c.TiedOutput {
		n += int64(c.Vocab * c.Dim)
	}
	return n
}

func countString(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB (%d)", float64(n)/1e9, n)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM (%d)", float64(n)/1e6, n)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK (%d)", float64(n)/1e3, n)
	}
	return fmt.Sprint(n)
}

func bytesString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
